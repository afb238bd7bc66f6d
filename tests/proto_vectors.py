#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Recompute the unseal protocol's test vectors (docs/protocol.md) from
their inputs with hashlib and the cryptography package, independently of
mbedTLS and of our C code, and compare them with the vector file.

usage: proto_vectors.py VECTORS        print "ok NAME" / "FAIL NAME ..." lines
       proto_vectors.py --print VECTORS print the computed outputs
Exits 1 when any output differs or is missing."""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INPUTS = ("nonce", "ekm", "volume", "agent_private", "service_private", "secret",
          "error_message")
TEXT = ("volume", "error_message")


def read_vectors(path):
    vectors = {}
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            name, sep, value = line.partition(" = ")
            if not sep or name in vectors:
                raise SystemExit(f"{path}: bad or repeated line: {line!r}")
            vectors[name] = value
    return vectors


def lv(data):
    return len(data).to_bytes(2, "big") + data


def b64(data):
    return base64.b64encode(data).decode("ascii")


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def key_pair(private):
    key = ec.derive_private_key(int.from_bytes(private, "big"), ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)
    return key, public


def compute(v):
    inp = {n: (v[n].encode("ascii") if n in TEXT else bytes.fromhex(v[n])) for n in INPUTS}
    nonce, ekm, volume, secret = inp["nonce"], inp["ekm"], inp["volume"], inp["secret"]
    agent, agent_pub = key_pair(inp["agent_private"])
    service, service_pub = key_pair(inp["service_private"])
    report_data = hashlib.sha512(b"snp-unseal/v1/report-data\0" + lv(nonce) + lv(ekm) +
                                 lv(agent_pub) + lv(volume)).digest()
    z = service.exchange(ec.ECDH(), agent.public_key())
    if agent.exchange(ec.ECDH(), service.public_key()) != z:
        raise SystemExit("ECDH does not agree with itself")
    info = b"snp-unseal/v1/seal\0" + lv(agent_pub) + lv(service_pub) + lv(volume)
    okm = HKDF(algorithm=hashes.SHA256(), length=44, salt=nonce, info=info).derive(z)
    key, iv = okm[:32], okm[32:]
    aad = b"snp-unseal/v1/seal-aad\0" + lv(nonce) + lv(volume)
    ciphertext = AESGCM(key).encrypt(iv, secret, aad)
    if AESGCM(key).decrypt(iv, ciphertext, aad) != secret:
        raise SystemExit("AES-GCM does not open what it sealed")
    vol = volume.decode("ascii")
    out = {
        "agent_public": agent_pub.hex(),
        "service_public": service_pub.hex(),
        "report_data": report_data.hex(),
        "z": z.hex(),
        "info": info.hex(),
        "okm": okm.hex(),
        "key": key.hex(),
        "iv": iv.hex(),
        "aad": aad.hex(),
        "ciphertext": ciphertext.hex(),
        "challenge_json": compact({"version": 1, "nonce": b64(nonce), "expires_in": 60}),
        "unseal_response_json": compact({"version": 1, "volume": vol,
                                         "service_pubkey": b64(service_pub),
                                         "ciphertext": b64(ciphertext)}),
        "error_json": compact({"error": "policy-rejected",
                               "message": v["error_message"], "rule": "measurement"}),
        "registration_json": compact({"version": 1, "volume": vol, "secret": b64(secret)}),
    }
    return out


def main(argv):
    printing = len(argv) == 3 and argv[1] == "--print"
    if len(argv) != 2 and not printing:
        raise SystemExit(__doc__)
    vectors = read_vectors(argv[-1])
    computed = compute(vectors)
    if printing:
        for name, value in computed.items():
            print(f"{name} = {value}")
        return 0
    failed = 0
    for name, value in computed.items():
        if vectors.get(name) == value:
            print(f"ok {name}")
        else:
            failed += 1
            print(f"FAIL {name}: the file has {vectors.get(name)!r}, recomputed {value!r}")
    unknown = set(vectors) - set(computed) - set(INPUTS)
    for name in sorted(unknown):
        failed += 1
        print(f"FAIL {name}: not a vector this check knows")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
