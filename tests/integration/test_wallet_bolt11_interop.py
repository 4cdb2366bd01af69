"""The fake wallet's invoices, read by decoders we did not write.

`bolt11` (Python) checks the signature by recovering the payee key; the
JavaScript side decodes the fields with `light-bolt11-decoder` and recovers the
signer with `@noble/curves`, so neither our encoder nor libsecp256k1 is judge
of its own output.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import bolt11
import pytest
from nostrbazaar.wallets.base import InvoiceRequest, NewInvoice
from nostrbazaar.wallets.fake import FakeWallet

JS_DIR = Path(__file__).resolve().parents[1] / "interop" / "js"

# Decodes each invoice given on stdin (one JSON list) and recovers its signer.
DECODER = r"""
import { decode } from 'light-bolt11-decoder';
import { bech32 } from '@scure/base';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { readFileSync } from 'node:fs';

const toBytes = (words) => {
  let acc = 0n, bits = 0, out = [];
  for (const w of words) { acc = (acc << 5n) | BigInt(w); bits += 5;
    while (bits >= 8) { bits -= 8; out.push(Number((acc >> BigInt(bits)) & 255n)); } }
  if (bits > 0) out.push(Number((acc << BigInt(8 - bits)) & 255n));
  return Uint8Array.from(out);
};
const signer = (invoice) => {
  const { prefix, words } = bech32.decode(invoice, 10000);
  const sig = toBytes(words.slice(-104));
  const signed = toBytes(words.slice(0, -104));
  const message = new Uint8Array([...new TextEncoder().encode(prefix), ...signed]);
  const compact = secp256k1.Signature.fromBytes(sig.slice(0, 64), 'compact');
  const signature = compact.addRecoveryBit(sig[64]);
  return signature.recoverPublicKey(sha256(message)).toHex(true);
};
const result = JSON.parse(readFileSync(0, 'utf8')).map((invoice) => {
  const decoded = decode(invoice);
  const section = (name) => decoded.sections.find((s) => s.name === name)?.value;
  return { amount_msat: section('amount'), payment_hash: section('payment_hash'),
    description: section('description'), timestamp: section('timestamp'),
    expiry: decoded.expiry, network: section('coin_network')?.bech32, payee: signer(invoice) };
});
process.stdout.write(JSON.stringify(result));
"""

AMOUNTS = (1, 10, 999, 1000, 21_000, 100_000, 123_456_789, 250_000_000, 100_000_000_000)


def _node_decode(invoices: list[str]) -> list[dict[str, object]]:
    if (
        shutil.which("node") is None
        or not (JS_DIR / "node_modules" / "light-bolt11-decoder").exists()
    ):
        pytest.fail("node and tests/interop/js/node_modules are needed: run `make test-deps`")
    done = subprocess.run(
        ["node", "--input-type=module", "-e", DECODER],
        input=json.dumps(invoices),
        capture_output=True,
        text=True,
        cwd=JS_DIR,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
async def wallet(tmp_path: Path):
    fake = FakeWallet(tmp_path)
    await fake.start()
    yield fake
    await fake.stop()


async def test_python_bolt11_decodes_amount_hash_expiry_and_recovers_node_key(
    wallet: FakeWallet,
) -> None:
    for amount in AMOUNTS:
        new = await wallet.create_invoice(amount, "order ✓ 42", 900, {"order_id": "42"})
        decoded = bolt11.decode(new.bolt11)
        assert decoded.amount_msat == amount
        assert decoded.payment_hash == new.payment_hash
        assert decoded.description == "order ✓ 42"
        assert decoded.date + decoded.expiry == new.expires_at
        assert decoded.payee == wallet.node_pubkey
        assert decoded.is_regtest()
        assert decoded.payment_secret is not None


@pytest.mark.interop
async def test_javascript_decoder_reads_the_same_fields_and_signer(wallet: FakeWallet) -> None:
    minted = [await wallet.create_invoice(a, f"item {a}", 60 + a % 7, None) for a in AMOUNTS]
    decoded = _node_decode([m.bolt11 for m in minted])
    for new, seen in zip(minted, decoded, strict=True):
        assert int(str(seen["amount_msat"])) == new.amount_msat
        assert seen["payment_hash"] == new.payment_hash
        assert seen["description"] == f"item {new.amount_msat}"
        assert int(str(seen["timestamp"])) + int(str(seen["expiry"])) == new.expires_at
        assert seen["network"] == "bcrt"
        assert seen["payee"] == wallet.node_pubkey


@pytest.mark.interop
async def test_javascript_decoder_recovers_the_same_key_after_restart(tmp_path: Path) -> None:
    first = FakeWallet(tmp_path)
    await first.start()
    before = await first.create_invoice(5_000, "before", 600)
    await first.stop()
    second = FakeWallet(tmp_path)
    await second.start()
    after = await second.create_invoice(5_000, "after", 600)
    await second.stop()
    payees = {d["payee"] for d in _node_decode([before.bolt11, after.bolt11])}
    assert payees == {first.node_pubkey} == {second.node_pubkey}


RANDOM_PARTS = ("payment_hash", "payment_secret", "signature")  # fresh for every invoice


def _batch_requests() -> list[InvoiceRequest]:
    memos = ["order ✓ 42", "", "x" * 639, "ß" * 319, "lnurl"]
    requests = [
        InvoiceRequest(amount, memos[i % len(memos)], 60 + 97 * i, {"i": i})
        for i, amount in enumerate(AMOUNTS)
    ]
    digest = hashlib.sha256(b'[["text/plain","pay to a lightning address"]]').digest()
    return [*requests, InvoiceRequest(13_000, "metadata", 600, {}, digest)]


async def test_a_batch_and_single_invoices_decode_identically_with_the_bolt11_package(
    tmp_path: Path,
) -> None:
    wallet = FakeWallet(tmp_path, clock=lambda: 1_700_000_000.0)
    await wallet.start()
    requests = _batch_requests()
    single = [
        await wallet.create_invoice(
            r.amount_msat, r.memo, r.expiry_seconds, dict(r.extra), r.description_hash
        )
        for r in requests
    ]
    batch = await wallet.create_invoices(requests)
    await wallet.stop()
    assert all(isinstance(new, NewInvoice) for new in batch), batch
    for alone, together in zip(single, batch, strict=True):
        assert isinstance(together, NewInvoice)
        theirs = [bolt11.decode(new.bolt11).data for new in (alone, together)]
        assert [d["payment_hash"] for d in theirs] == [alone.payment_hash, together.payment_hash]
        assert all(len(d["payment_secret"]) == 64 and len(d["signature"]) == 128 for d in theirs)
        fixed = [{k: v for k, v in d.items() if k not in RANDOM_PARTS} for d in theirs]
        assert fixed[0] == fixed[1]
        assert fixed[0]["payee"] == wallet.node_pubkey
        assert (len(alone.bolt11), alone.amount_msat, alone.expires_at) == (
            len(together.bolt11),
            together.amount_msat,
            together.expires_at,
        )


@pytest.mark.interop
async def test_javascript_decoder_reads_a_batch_as_minted(wallet: FakeWallet) -> None:
    requests = [r for r in _batch_requests() if r.description_hash is None]
    minted = await wallet.create_invoices(requests)
    decoded = _node_decode([m.bolt11 for m in minted if isinstance(m, NewInvoice)])
    for asked, new, seen in zip(requests, minted, decoded, strict=True):
        assert isinstance(new, NewInvoice)
        assert (int(str(seen["amount_msat"])), seen["payment_hash"]) == (
            asked.amount_msat,
            new.payment_hash,
        )
        assert seen["description"] == asked.memo
        assert int(str(seen["timestamp"])) + int(str(seen["expiry"])) == new.expires_at
        assert seen["payee"] == wallet.node_pubkey
