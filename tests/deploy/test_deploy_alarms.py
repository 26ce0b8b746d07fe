"""The alarms serverless.yml declares: what they watch and whom they tell."""

from __future__ import annotations

import pytest
import yaml

from .build import ROOT
from .build import AnyTagLoader
from .build import resource


def alarms(template: dict) -> dict[str, dict]:
    return {
        name: r["Properties"]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }


def watched(alarm: dict) -> set[tuple[str, str, str]]:
    """(namespace, metric, dimension value) for each metric the alarm reads."""
    if "MetricName" in alarm:
        stats = [{"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"],
                  "Dimensions": alarm["Dimensions"]}]
    else:
        stats = [
            m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m
        ]
    return {
        (s["Namespace"], s["MetricName"], str(s["Dimensions"][0]["Value"]))
        for s in stats
    }


FUNCTION = str({"Ref": "WebLambdaFunction"})
API = str({"Ref": "HttpApi"})


@pytest.mark.parametrize("namespace, metric, dimension", [
    ("AWS/Lambda", "Errors", FUNCTION),
    ("AWS/Lambda", "Throttles", FUNCTION),
    ("AWS/ApiGateway", "5xx", API),
    ("AWS/ApiGateway", "Latency", API),
    ("AWS/DynamoDB", "ReadThrottleEvents", str({"Ref": "SessionsTable"})),
    ("AWS/DynamoDB", "WriteThrottleEvents", str({"Ref": "SessionsTable"})),
    ("AWS/DynamoDB", "ReadThrottleEvents", str({"Ref": "PostsTable"})),
    ("AWS/DynamoDB", "WriteThrottleEvents", str({"Ref": "PostsTable"})),
])
def test_an_alarm_watches(template, namespace, metric, dimension):
    assert [
        name for name, alarm in alarms(template).items()
        if (namespace, metric, dimension) in watched(alarm)
    ]


def test_5xx_alarm_is_a_rate_and_latency_a_p95(template):
    rate = resource(template, "Api5xxRateAlarm")
    (expression,) = [m for m in rate["Metrics"] if m.get("ReturnData")]
    assert "errors / requests" in expression["Expression"]
    latency = resource(template, "ApiLatencyAlarm")
    assert latency["ExtendedStatistic"] == "p95" and latency["Threshold"] > 0


def test_every_alarm_notifies_the_topic(template):
    for name, alarm in alarms(template).items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["TreatMissingData"] == "notBreaching", name  # quiet when idle


def test_email_subscription_only_when_an_address_is_given(template):
    parameter = template["Parameters"]["AlarmEmail"]
    assert parameter["Default"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_the_deploy_parameter_reaches_the_stack():
    """`osls deploy --param="alarmEmail=..."` fills the stack parameter."""
    text = (ROOT / "serverless.yml").read_text()
    settings = yaml.load(text, Loader=AnyTagLoader)
    assert {"ParameterKey": "AlarmEmail",
            "ParameterValue": "${param:alarmEmail, ''}"} in settings["provider"][
        "stackParameters"]
