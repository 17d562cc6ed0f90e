"""The fast path in AWS: events reach the app's EventBridge bus with the detail-types the rules match."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws
from optionflow.events.bus import SIGNAL_RECEIVED, SOURCE, EventBridgeBus


@mock_aws
def test_published_event_matches_the_signal_processor_rule(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name="optionflow-test")
    queue_url = sqs.create_queue(QueueName="fast-path")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    # the same pattern template.yaml gives SignalProcessorFunction's FastPath rule
    events.put_rule(
        Name="signal-processor",
        EventBusName="optionflow-test",
        EventPattern=json.dumps({"source": [SOURCE], "detail-type": [SIGNAL_RECEIVED]}),
    )
    events.put_targets(
        Rule="signal-processor", EventBusName="optionflow-test", Targets=[{"Id": "q", "Arn": queue_arn}]
    )

    EventBridgeBus("optionflow-test").publish(SIGNAL_RECEIVED, {"signal_id": "abc"})
    EventBridgeBus("optionflow-test").publish("order.created", {"count": 1})  # another stage's event

    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    delivered = json.loads(messages[0]["Body"])
    assert delivered["detail-type"] == SIGNAL_RECEIVED
    assert delivered["detail"] == {"signal_id": "abc"}
