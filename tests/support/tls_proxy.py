"""A reverse proxy that terminates TLS in front of the API, as a Kubernetes ingress does.

It answers https on its own port with a self-signed certificate, and forwards each
request over plain http to the API with the client's address and scheme in
`X-Forwarded-For` / `X-Forwarded-Proto` (the `Host` header passes unchanged, as
nginx's `proxy_set_header Host $host` does). The API trusts those headers only
because the proxy connects from an address in its FORWARDED_ALLOW_IPS.

    cert, key = self_signed_certificate(tmp_path)
    async with serving(reverse_proxy(api_url), ssl_certfile=cert, ssl_keyfile=key) as url:
        ...  # https://127.0.0.1:<port>; clients verify with `cert`
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["reverse_proxy", "self_signed_certificate"]

# Connection-level headers (RFC 9110, 7.6.1) are the proxy's own, never forwarded.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
    }
)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for `localhost` and 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "proxy-cert.pem", directory / "proxy-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def reverse_proxy(upstream: str) -> Starlette:
    """An ASGI app forwarding every request to `upstream` (http://host:port)."""
    client = httpx.AsyncClient(base_url=upstream, timeout=30)

    async def forward(request: Request) -> Response:
        headers = [
            (name, value)
            for name, value in request.headers.raw
            if name.lower() not in _HOP_BY_HOP | {b"x-forwarded-for", b"x-forwarded-proto"}
        ]
        peer = request.client.host if request.client else "unknown"
        headers += [(b"x-forwarded-for", peer.encode()), (b"x-forwarded-proto", b"https")]
        answer = await client.request(
            request.method,
            request.url.path,
            params=request.url.query.encode(),
            headers=headers,
            content=await request.body(),
        )
        response = Response(content=answer.content, status_code=answer.status_code)
        response.raw_headers = [
            (name, value)
            for name, value in answer.headers.raw
            if name.lower() not in _HOP_BY_HOP | {b"content-encoding"}
        ] + [(b"content-length", str(len(answer.content)).encode())]
        return response

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with client:
            yield

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)], lifespan=lifespan)
