"""An SNS topic: e-mail and SMS subscribers get the title as subject and the lines as the message."""

from __future__ import annotations

from typing import Any

from optionflow.notify.messages import Message
from optionflow.notify.ports import DeliveryFailed


class SnsChannel:
    name = "sns"

    def __init__(self, topic_arn: str, client: Any = None) -> None:
        self._topic_arn = topic_arn
        self._client = client

    def __repr__(self) -> str:
        return "SnsChannel()"

    def secrets(self) -> tuple[str, ...]:
        return ()

    def send(self, message: Message) -> None:
        if self._client is None:
            from optionflow.aws_clients import request_path_client

            self._client = request_path_client("sns", total_attempts=2)
        try:
            self._client.publish(
                TopicArn=self._topic_arn,
                Subject=f"OptionFlow: {message.title}"[:100],  # SNS refuses a longer subject
                Message=message.text,
                MessageAttributes={
                    "kind": {"DataType": "String", "StringValue": str(message.kind)},
                    "severity": {"DataType": "String", "StringValue": str(message.severity)},
                },
            )
        except Exception as exc:  # botocore raises many kinds; the notifier needs one
            raise DeliveryFailed(f"sns publish: {type(exc).__name__}: {exc}") from None
