"""infra/s3: each JSON document validated against the S3 API's own request shapes (botocore's
service model, what the AWS CLI validates `file://` documents with), and checked against
what Bugline does: the CORS rule it writes itself, the key prefixes its uploads use, the S3
calls its IAM policy must allow."""

from __future__ import annotations

import ast
import asyncio
import json
import re
import subprocess
from types import SimpleNamespace
from typing import Any

import botocore.session
import pytest
import yaml
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from bugline.intake.schema import AttachmentIn
from bugline.intake.uploads import new_attachment, upload_key
from bugline.settings import Settings
from bugline.storage.s3 import S3Store
from tests.infra.files import COMPOSE, COMPOSE_ENV_EXAMPLE, K8S, REPO, S3, env_file

# file -> (the s3api operation it is the body of, that operation's member holding it)
DOCUMENTS = {
    "cors.json": ("PutBucketCors", "CORSConfiguration"),
    "lifecycle.json": ("PutBucketLifecycleConfiguration", "LifecycleConfiguration"),
    "encryption.json": ("PutBucketEncryption", "ServerSideEncryptionConfiguration"),
    "public-access-block.json": ("PutPublicAccessBlock", "PublicAccessBlockConfiguration"),
    "ownership-controls.json": ("PutBucketOwnershipControls", "OwnershipControls"),
}
# The boto3 calls Bugline makes (storage/s3.py) and the IAM actions they need.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
ACTIONS = {
    "generate_presigned_post": {"s3:PutObject"},
    "create_multipart_upload": {"s3:PutObject"},
    "upload_part": {"s3:PutObject"},
    "complete_multipart_upload": {"s3:PutObject"},
    "abort_multipart_upload": {"s3:AbortMultipartUpload"},
    "copy_object": {"s3:GetObject", "s3:PutObject"},
    "delete_object": {"s3:DeleteObject"},
    "head_object": {"s3:GetObject"},
    "get_object": {"s3:GetObject"},
    "upload_file": {"s3:PutObject"},
    "head_bucket": {"s3:ListBucket"},
    "put_bucket_cors": {"s3:PutBucketCORS"},
    # Only when the bucket is missing; the documented setup creates it beforehand.
    "create_bucket": set(),
}


def load(name: str) -> Any:
    return json.loads((S3 / name).read_text())


@pytest.fixture(scope="module")
def s3_model() -> Any:
    return botocore.session.get_session().get_service_model("s3")


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_documents_have_the_s3_api_shape(name: str, s3_model: Any) -> None:
    operation, member = DOCUMENTS[name]
    shape = s3_model.operation_model(operation).input_shape
    validate_parameters({"Bucket": "bugline-media", member: load(name)}, shape)


def test_shape_validation_catches_a_wrong_document(s3_model: Any) -> None:
    shape = s3_model.operation_model("PutBucketLifecycleConfiguration").input_shape
    rules = load("lifecycle.json")
    rules["Rules"][0]["AbortIncompleteMultipartUpload"] = {"Days": 1}
    with pytest.raises(ParamValidationError):
        validate_parameters({"Bucket": "b", "LifecycleConfiguration": rules}, shape)


def test_every_document_is_applied_by_the_script() -> None:
    script = (S3 / "apply.sh").read_text()
    for name in [*DOCUMENTS, "bucket-policy.json", "iam-policy.json"]:
        assert f"$here/{name}" in script, f"apply.sh does not use {name}"
    for operation, _ in DOCUMENTS.values():
        command = re.sub(r"(?<!^)([A-Z])", r"-\1", operation).lower().replace("cors", "cors")
        assert command.replace("put-bucket-cors", "put-bucket-cors") in script, (
            f"apply.sh never runs {command}"
        )
    assert subprocess.run(["bash", "-n", str(S3 / "apply.sh")], capture_output=True).returncode == 0
    assert set(DOCUMENTS) | {"bucket-policy.json", "iam-policy.json"} == {p.name for p in S3.glob("*.json")}


def test_cors_is_the_rule_bugline_writes_itself() -> None:
    """`bugline migrate` and `create-project` replace the bucket's CORS with their own rule
    (storage/s3.py): the documented file must be that same rule, or operators who apply it
    by hand would see uploads fail until the next migrate."""
    documented = load("cors.json")["CORSRules"]
    assert len(documented) == 1
    origins = documented[0]["AllowedOrigins"]
    store = S3Store(
        "bugline-media",
        endpoint_url=None,
        public_endpoint_url=None,
        region="eu-central-1",
        access_key="AKIDEXAMPLE",
        secret_key="s" * 40,
    )
    expected = {k: v for k, v in documented[0].items() if k != "ID"}
    with Stubber(store._client) as stub:
        stub.add_response("head_bucket", {}, {"Bucket": "bugline-media"})
        stub.add_response(
            "put_bucket_cors", {}, {"Bucket": "bugline-media", "CORSConfiguration": {"CORSRules": [expected]}}
        )
        asyncio.run(store.ensure_bucket(origins))
        stub.assert_no_pending_responses()
    rule = documented[0]
    assert {"POST", "PUT"} <= set(rule["AllowedMethods"])  # presigned POST, multipart part PUTs
    assert "ETag" in rule["ExposeHeaders"], "browsers read each part's ETag to complete the upload"
    assert "*" not in origins


def test_lifecycle_cleans_what_uploads_leave_behind() -> None:
    rules = {r["ID"]: r for r in load("lifecycle.json")["Rules"]}
    assert all(r["Status"] == "Enabled" for r in rules.values())
    spec = AttachmentIn.model_validate(
        {"name": "a.png", "type": "image/png", "size": 10, "kind": "screenshot"}
    )
    stored = new_attachment("p1", "r1", spec)
    incoming = upload_key(SimpleNamespace(storage_key=stored.storage_key))  # type: ignore[arg-type]

    def covering(key: str, action: str) -> list[dict[str, Any]]:
        return [r for r in rules.values() if action in r and key.startswith(r["Filter"].get("Prefix", ""))]

    (abort,) = covering(incoming, "AbortIncompleteMultipartUpload")
    assert abort["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    assert abort["Filter"]["Prefix"] == "", "multipart uploads are aborted wherever they were started"

    # Uploaded but never finalized (the report was abandoned): gone after a while, but never
    # before its upload URL could still be used, whatever BUGLINE_UPLOAD_URL_TTL allows (7 days).
    (unfinished,) = covering(incoming, "Expiration")
    assert unfinished["Filter"]["Prefix"] == "incoming/"
    assert unfinished["Expiration"]["Days"] * 86400 >= 7 * 24 * 3600
    assert Settings().upload_url_ttl <= 7 * 24 * 3600

    # Finalized media: Bugline deletes it itself (BUGLINE_RETENTION_MEDIA_DAYS) and records
    # that; the bucket rule is a backstop that must never fire first, or reports would link
    # to files Bugline believes it still has. It never touches uploads in flight either.
    (kept,) = covering(stored.storage_key, "Expiration")
    assert kept["ID"] == "media-retention-backstop" and kept["Filter"]["Prefix"] == "projects/"
    assert not incoming.startswith(kept["Filter"]["Prefix"])
    shipped = [
        int(yaml.safe_load((K8S / "configmap.yaml").read_text())["data"]["BUGLINE_RETENTION_MEDIA_DAYS"]),
        int(env_file(COMPOSE_ENV_EXAMPLE)["BUGLINE_RETENTION_MEDIA_DAYS"]),
        int(re.search(r"BUGLINE_RETENTION_MEDIA_DAYS:-(\d+)", COMPOSE.read_text())[1]),
    ]
    assert all(0 < days < kept["Expiration"]["Days"] for days in shipped), (
        f"the bucket would delete media (after {kept['Expiration']['Days']} days) before Bugline does ({shipped})"
    )


def test_encryption_and_public_access() -> None:
    (rule,) = load("encryption.json")["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert all(load("public-access-block.json").values()) and len(load("public-access-block.json")) == 4
    assert load("ownership-controls.json")["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (deny,) = load("bucket-policy.json")["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {"arn:aws:s3:::BUCKET", "arn:aws:s3:::BUCKET/*"}


def s3_calls() -> set[str]:
    """Every boto3 client method storage/s3.py calls or presigns."""
    tree = ast.parse((REPO / "backend" / "bugline" / "storage" / "s3.py").read_text())
    calls: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr in ("_client", "_public")
            and node.attr != "meta"
        ):
            calls.add(node.attr)
        if (
            isinstance(node, ast.keyword)
            and node.arg == "ClientMethod"
            and isinstance(node.value, ast.Constant)
        ):
            calls.add(str(node.value.value))
    return calls - {"generate_presigned_url"}


def test_the_iam_policy_allows_what_bugline_calls_and_nothing_else() -> None:
    calls = s3_calls()
    assert {"head_bucket", "get_object", "upload_part", "generate_presigned_post"} <= calls
    unknown = calls - set(ACTIONS)
    assert not unknown, f"storage/s3.py now calls {unknown}: add them to ACTIONS here and to iam-policy.json"
    needed = set().union(*(ACTIONS[c] for c in calls))
    granted: dict[str, set[str]] = {}
    for statement in load("iam-policy.json")["Statement"]:
        assert statement["Effect"] == "Allow"
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for action in statement["Action"]:
            granted.setdefault(action, set()).update(resources)
    assert set(granted) == needed, f"missing {needed - set(granted)}, unneeded {set(granted) - needed}"
    bucket_level = {"s3:ListBucket", "s3:PutBucketCORS"}
    for action, resources in granted.items():
        want = "arn:aws:s3:::BUCKET" if action in bucket_level else "arn:aws:s3:::BUCKET/*"
        assert resources == {want}, f"{action} applies to {want}"
