"""Schemathesis hooks for the Canopy Delivery Service's OpenAPI fuzzing (`.ci/schemathesis.sh`).

- Requests generated as schema-valid are signed as a registered device (the API's
  authentication, `canopy_ds_api::auth`), so that fuzzing reaches the handlers behind it;
  requests generated to break the schema keep the headers schemathesis made.
- `message/mls` bodies are sent as the bytes generated.

The device is registered when the hooks load, with an Ed25519 key (suite 0x0001) made here.
"""

import os
import secrets
import time
from urllib.parse import urlsplit

import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from schemathesis.generation import GenerationMode

BASE = os.environ["CANOPY_DS_URL"].rstrip("/")
LABEL = b"canopy-ds request v1\n"
DEVICE = "fuzz" + secrets.token_hex(4) + "/device"
KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def signed_headers(method: str, path_and_query: str, body: bytes) -> dict:
    """The four signature headers for a request (RequestSignature::signed_content)."""
    timestamp = int(time.time())
    nonce = secrets.token_hex(16)
    head = f"{method}\n{path_and_query}\n{DEVICE}\n{timestamp}\n{nonce}\n{len(body)}\n"
    signature = KEY.sign(LABEL + head.encode() + body)
    return {
        "canopy-device": DEVICE,
        "canopy-timestamp": str(timestamp),
        "canopy-nonce": nonce,
        "canopy-signature": signature.hex(),
    }


class Sign(requests.auth.AuthBase):
    """Signs the request as it goes on the wire (final URL and body bytes)."""

    def __call__(self, r):
        url = urlsplit(r.url)
        path_and_query = url.path + ("?" + url.query if url.query else "")
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        r.headers.update(signed_headers(r.method, path_and_query, body))
        return r


def register() -> None:
    body = (
        '{"device": "%s", "suite": 1, "signature_key": "%s"}' % (DEVICE, PUBLIC.hex())
    ).encode()
    headers = signed_headers("POST", "/v1/users", body)
    headers["content-type"] = "application/json"
    answer = requests.post(BASE + "/v1/users", data=body, headers=headers, timeout=10)
    if answer.status_code != 200:
        raise RuntimeError(f"registering {DEVICE}: {answer.status_code} {answer.text}")


register()


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = getattr(case, "_meta", None)
    if meta is None or meta.generation.mode == GenerationMode.POSITIVE:
        kwargs["auth"] = Sign()


# MLS messages are bytes on the wire, as application/octet-stream bodies are.
schemathesis.serializer.alias("message/mls", "application/octet-stream")


@schemathesis.hook
def map_query(context, query):
    # A long poll waits up to `wait` seconds when the inbox is empty: keep fuzzing fast.
    if query and isinstance(query.get("wait"), int) and query["wait"] > 1:
        query["wait"] = 1
    return query
