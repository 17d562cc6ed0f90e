"""Notifications to the trader: what each event says (`messages`), the channels' request formats
(`formats`), and the channels themselves (`ports`, `webhooks`, `sns`, `console`, built by `channels`)."""
