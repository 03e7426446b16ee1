#!/usr/bin/env python3
"""Markdown tables of the bundled tagger's quality on every gold split (for docs/QUALITY.md).

    python scripts/quality_tables.py [--corpus ../shared/corpus] [--no-model]

The tagger is the bundled rule pack and the bundled learned model, as a run uses them
(``--no-model``: the rules alone); the pools are also shown with the rules alone.
Development and held-out splits are pooled separately; the held-out pool is measured,
never tuned on; it is also shown without its sentences that retell a development sentence
(scripts/near_duplicates.py) and, apart, the held-out files of rounds 17 to 27. The
learned model was trained on the development split, so its figures there are in-sample. Each figure
comes from ``claimtag.evaluate.evaluate``, the code behind ``claimtag evaluate``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from claimtag import CLAIM_TYPES
from claimtag.evaluate import evaluate
from claimtag.gold import load_gold, split_files
from claimtag.learned import choose_model
from claimtag.pipeline import tagger_version
from claimtag.rules import default_rules

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from near_duplicates import flag  # noqa: E402

DEV = split_files(ROOT / "gold", "development")
HELD = split_files(ROOT / "gold", "heldout")
#: the split the learned model's thresholds were chosen on (written text drawn at random;
#: ``validation_model``, the corpus sample drawn where the model would add claims, is
#: reported by scripts/train_model.py instead: its sentences are not a random sample)
VAL = [n for n in split_files(ROOT / "gold", "validation") if n != "validation_model"]
#: the held-out files of rounds 17 to 42, which retell (almost) no event of an earlier gold file
FRESH = {
    17: ["heldout16", "events24_heldout"],
    18: ["heldout18", "events28_heldout"],
    19: ["heldout19", "events30_heldout"],
    20: ["heldout20", "events32_heldout"],
    21: ["heldout22", "events34_heldout"],
    23: ["heldout23", "events35_heldout"],
    25: ["heldout25", "events36_heldout"],
    26: ["heldout26", "events37_heldout"],
    27: ["heldout27", "events38_heldout"],
    28: ["heldout28", "events39_heldout"],
    29: ["heldout29", "events40_heldout"],
    30: ["heldout30", "events41_heldout"],
    31: ["heldout31", "events42_heldout"],
    32: ["heldout32", "events43_heldout"],
    33: ["heldout33", "events44_heldout"],
    34: ["heldout34", "events45_heldout"],
    36: ["heldout36", "events46_heldout"],
    37: ["heldout37", "events47_heldout"],
    38: ["heldout38", "events48_heldout"],
    39: ["heldout39", "events49_heldout"],
    40: ["heldout40", "events50_heldout"],
    41: ["heldout41", "events51_heldout"],
    42: ["heldout42", "events52_heldout"],
    43: ["heldout43", "events53_heldout"],
    44: ["heldout44", "events54_heldout"],
    45: ["heldout45", "events55_heldout"],
    46: ["heldout46", "events56_heldout"],
    47: ["heldout47", "events57_heldout"],
    48: ["heldout48", "events58_heldout"],
}
GENRES = {
    "un_general_debates": "UN General Debates",
    "us_state_of_the_union": "State of the Union",
    "reuters21578": "Reuters newswire",
    "japan_nato_foreword": "analysis prose (foreword)",
}


# Written sets made in blocks of one style each: the first id of each set's analysis block,
# then the newswire, State of the Union and UN blocks that every set shares.
WRITTEN_ANALYSIS_FROM = {
    "events11": 121,
    "events12": 101,
    "events13": 121,
    "events15": 121,
    "events18": 121,
}
WRITTEN_STYLE_BLOCKS = [
    (181, 220, "newswire style (written)"),
    (221, 260, "State of the Union style (written)"),
    (261, 300, "UN General Debate style (written)"),
]


# Written sets whose genres are interleaved: one letter per sentence, in id order (from the
# set's notes): N and H short event news (present-day, 1980s-2000s), P analysis, S State of
# the Union style, U UN General Debate style, W 1987 newswire.
INTERLEAVED = {
    "events22": (
        "NNNUUNWSSUNSNNNSUSUPHNNNPNNNNSNHUHSWNNUUPUSHNWHNUWHNWHWSNWNPSPUSHNWHNNHNNHH"
        "SSUUHNNHUNUHNNUHNHHNHHHHNSWNHWHSNPNHWNUPPSNHSNSUSNUNNNHPHUHNSHPNNHNPNNWHSSS"
        "PNNHPUHSPHHUNHHUSPWNWPHSSPHHPNNUHNWNUNSUNUWHSUNPNPNHNPPNPPHPWNWNNPNNPNPSUHU"
        "SWUPWWUSPHWUPHNHSPUHSNSWWHHNHPNUPUNHNHUWPPWNPHSNPNPWSUHUHNNNUSNNSPNWWNHHNSW"
    ),
    "events24": (
        "HWNNUWUHHHUNSSHNSNSUSNHNUWWHHUPNHUWHPWSWHNNPNHPPSHHWSHNUWPSNHUHUUUHPHSUSNPW"
        "NHWNNPHNUUNWNWHUNNNHPHUNUWNWHWPNNNPNSNNHNPNNNPNPWHUNNPWHPSNHWNNPPSHHNNNPWSU"
        "SPSPPWUSHHNSNPNWSUPNUHHNNPSWNNSUHNNNNSHNHHSWHSNUNHSWNUNHUNHWPNWNUSNNUPHHNNU"
        "NUNPUHWSHNNNWHNNUHNNHSSPHHUSSWHNNHSPPNPSHPPNSNPHNNUPUHSNNNSNSHSPUUSPNUUNHHP"
    ),
    "events28": (
        "NNNWHNSUPSHHNWUUNHUNNNNNWPSWPUNNWPHNSPHHNSNNNNPSUWNNNSPUUNSNWPHSNSSPUNPNHNS"
        "WPWNNNNHWWSNNHHHNNNUUHNSWSSPWPPHHPSHHNNSWUPNWNHSHUPNPNHHHPNNUNNUUPPWHNNUWHN"
        "NUSSNNNHPNNWNHHUUNHSHNPSNNNNPSHUPNHSNUPHSSPHHNNUNSHHHNUWNNPHSPHPNUWNNHNUHSU"
        "UNUHPPSHNSNHWSSPUHWPUWUPSHNNHSSUPHUSWHSPNHNPUUNNHUWHHHHUNUSPPWHH"
    ),
    "events30": (
        "SSUNPNPPUPUSPWWHNNUPUNHWNPHSHHUNPPPSSSUPNUWHNUNNNNUPPHUHHUSNNWSHSWNUNNNHHH"
        "NPSPNHNSPHHWNUSUNWHNPWUHNWSHWHWPUSNWPPNHPNPNPPSUWNSPHSSPSSNNUNSNPUNSHHNNHP"
        "PWHHNSNPSHNNHHNNPUSHNHHHUNUNNNNUNSHPPNUNPNHSUUWNNNNUUNPHPNHUPNWNNSUWWPPHNH"
        "NUSSUNNNNHHNUUNHSNWWUUWNNHWNUWNHUSHHSHPWHSSNHUHSSNHHH"
    ),
    "events32": (
        "SNUSPWUUPSNPPHSHUSUHHNSNNSNUNHWHNUWWSHNHUUUPNSUPHHHNPUHUPHPUSSNNHPNPHNNNNW"
        "HHHPHNPNNHPNNNNNPWHUPUSWSHUSSPSWWWSUUUUPNSWNHWNHSHNNPNSSNHSHPUHHNUWNWPUNSH"
        "HPUPSSSNNNNUSWSSUWHUNNNPPHWNPNHWPUNHPNHHSHHPSNHHPNUUPWNUUPHNHNNHNNHHPPWNSN"
        "WNPNWNSNUNNWNUNUNNNNNUNNWSSNNPPNSWUWHNPNPHNHNNHWSNSHHSNHWPNUUSNW"
    ),
    "events34": (
        "SHWSNUUSSPPNHNNPHNSPNNNNUUSSPSSNHSNNPHUWHWSNUNPWPPWSHUPSPUHSHSWSWWSNSPUPHN"
        "HHSNSSNNNPHWNNHNWNNSSUHUWNNHWUNPUWHSPHPWUHNNNSWSUSHNNNHNUNPWPUUNNHPNNNPNNH"
        "HSUNUHWHPPNPSSPHNPWUHSWNUNNUUNHHUNWHWHPWNPUNPNPNNHHSPHPUHSWNNNHSNNUNNHWSUP"
        "NHWHUUUNHPSNHHUPNNNNPUNNSNNSUHNNPUPSNPHWSNHUHHHHPU"
    ),
    "events35": (
        "SWWWHUNWUNSHPUUNPPHNPPHUSWPNNNSNNPWNPUSSNHNPNUUSHPPNNPHNNUNNPWNSUHNNNUHPNW"
        "UPSUNPPSSWPHWNHUHHHHNPSHPHSPNPHPPHWNHNUWSNNSHSNWNSNNPHHNWUHNSNHWPUNHNNHHHW"
        "PUPPUSWNHHUHNWWNHUNNUNHSUUPNUUNWUHUHSHUUSSNNNNSNNSPPSNPPNWSSNWWHNNHNNWNUNH"
        "NNPNWNNNUSNHHNPHSWHHUNNUSSUNHNSHNPSSUUNHNPUSWHPWHSUSNPHSSWUN"
    ),
    "events36": (
        "NNPWSNUNHUSSUPHSPUUUPHPHHPNHPUNNHSWPWNPUWWUNSUSNHUWUUHHHPHNPNPNSWUHNPSNSPH"
        "UNSWWHHUHSNHSWUHNHPNHPUNUNHNUWPNSHSNNPNHNPPSSUHSSUHSHHPHNSPNHUUNPNHSNSUNUW"
        "NNUNNNPPHNUHHUPUNHHWUNWWUPPSWPSNPNHUUNWHPNHPPWPNHWSSNHNSNNWHUNNSNNHSWWUSSH"
        "HUNNHHSNWSNNSNUWNNNWNSWNNHHPNNHSWNNHNNNNNPPHNSPUUNNPSPWHNW"
    ),
    "events37": (
        "UPSNNPUUSNNUHHUNSNSSPPSHNNNUPNWUWWNNWSWSUPWPNHHHSUPPNNUWNPNWNWNUHPHSNUWNHU"
        "UNUHSHUHWNSHNHHHWHUSHNNNPUNSUNPSPNHSHHNUSNUHUWPHNPNSPWNSSUHHNPHSNSNNHHNHNS"
        "NNNPNPSHUNNHNNSSSNHSUHNNNUPNPHNHPHNNUHWWHSUHWNHHHPNWPSHNHNUNSNUNHWWHSNUNNW"
        "PSHUHNNSUPPSNPNWHNPSWNSSWNSHPNNPNPPHPHSWUNUUUUNPWNPPNHNPHNWHUNN"
    ),
    "events38": (
        "UUNSPHNNNUNUPHNWWUWSUPUNHPWUSUPNHHNNSNHNPHUWHSUNHHUWPHPPSUSNHUPWHSPUHPNNNU"
        "PUSNPUWNNNWUNHHPNHSSNPNHHUUNSWNNNSSNUSNHNUUNPNHSUPNNWNNHHUPWNNWNPPNSUNUSNP"
        "HPUPWHWNSHPNNWSWHNNNUNHNWNSPSNHHPSHSNPHNSWNWHSNNWNSWUNHNSNPNNHHHHSHSUHWHHN"
        "HHNSNNSHWUWNNPHSUHUUNUPPSWSHNPSSHWPSNPUPPSNNHPNHNHUNNUPNNHSNWPN"
    ),
    "events39": (
        "SHHUNNPUPSSNNNNHHSHNNUUPHUHHWHPNUWNUSHUWSNSHNPPSNSHWUHSNWPWWNPHPPUUNWHSWNU"
        "WHNSNHHUSUNSSHHSPPNUUPNHUNHNWHNPNNSNUUNNPPNWNNNHPNNNPPHNNHPPHWUNNHPPNUNHPH"
        "NHNPNPPUNWNWUNNHNNSNHSWWUPUWPSUHHNNSUPHWHPNSSSNSWNHPHSUUPHHSHSPHUNPWHNWPNN"
        "NNUSSNHNNSHNNUUUSSPWNWPHPWSSUPNNSSWUUNHSWNSHUW"
    ),
    "events40": (
        "UHHWUWPPNSUNNNHUSHSPNNNHPPNHNHNPWHUUNSNNNPSPNWPPNUNWHNSNUWUWWHUSWPSNNSNWNH"
        "SHNUUNNSHPHHSPNSSPHPSNPUWNHUUNUNNUUNWHSPNHPUHWPPNUNPUNUHNHHNSSWWHPNUHUSNNN"
        "PNNUWSNNPPPHSSPSUHNNHNUPSNNPUPNPHHHHUNHWNHSSNNNSNUNHHHWNNNWNSUPSUSUPUNNWUH"
        "NWHSNNWHPWSSPSNUUPWHNHNNHUUHSWSPPSHNNSNNNSHWHPWSUP"
    ),
    "events41": (
        "HHUUSNPSNUNPNHUUSNWHHHSHNWUHSSNHPNNPWUNHUPPHSNNUHPPUHNHNNNNWNSSNUNHUNNPHSW"
        "NHHSHNNNHHNUUNPHHSSNUUHPHWUHUNPPSNWNPWPPNHSHNWNNPPNPNHPSNSUHSPSWUWHUNNNNPP"
        "NNHPPPPNNHWWSWNSWWNPHSNSSUNHNUSSUWWWNPPHNSNSHUNUHPNPUSNSSNWNSHHPUNUNUNNWPP"
        "WWSUNNNNNNWSSUPWNNHWHUUUHPHNHHWNUPHHSNUUPNSNNHHNNNWHUSHUWSHPS"
    ),
    "events42": (
        "PHNPNHHSNNHNSUUSHSHPUHHUNHHPUUHSNNSNNSUNNSPPHSHWHPWNPPHPNUUNPPNHUSPUUUSHWW"
        "UNHWNPSWPNHPWNSHNNPHPSUPHWSPWUSPHNUNSPWNUUNPNHHNPUNSHNSPWPHSNNSNSPHUHNNWPP"
        "UPNHHSWNNHNHUNSUPUNNNUSNSNSSHSHHSNNWNNUUHNUHHUNHSNWSUWWNSNNNPNNWSNUPUHHNUS"
        "HNUNNPSNPUSNNSNUNNPWWPHNNUNPUSHUNPHHNPNHW"
    ),
    "events43": (
        "HWUPHNHSPHSHNUSHWPNSNWPPNNUPSNUPNNSPWPPHHUNHPPSHPHWHUPPPNHHUWWNUSUNNNPNNWS"
        "HWHNUSNSHNUUUHNWNNHUHSSNHNNUNHSSPWUSNNUWNHHNNUNHSHUNWSPUNHHPUHPNHNSNSHNWHS"
        "NUUNNHWUNNHPUHUHUSPWNNSNSPHPNSPPNWSNPSNNHSSUUNPWPWSUNPUHHNSUHUPWSNPHWUSUNN"
        "NWHHHNNNSWNUWNSSPHHNNNNUNSWPHPNNPSPHUNWNSNPNWHNSPUU"
    ),
    "events44": (
        "HUHHNNWNSUNNWUNSWUNHPHPWPSNNWHUPNSUUUSUUHUPWHHNNNPUPNNUUUHPNSWSWNPSSSSSSNU"
        "PWUNHHUWNNHHPUWHUNPNHPUHWHUHNPPSHNUNWPNSPUPPSPWNUNSHSHPUWPPHHNUHNSPNWHUUSH"
        "USPHHUNNNPSSNSPSNWNHNPNUUHWSNUNSSNNPSWWHSWSPNHHHPSHHHPSNPSNNNSUPWHPWUUPNNH"
        "NNUWHWNWNSPSWNNNPUNPHUNSHHNSNNHNNSNNHHP"
    ),
    "events45": (
        "SWSNSWPUSNNSUWPUUWPHSPNWSPWHNUSSPSHHUWNUNSNUPPNSSNPWSHHNHNUWWPSNSHNPSPNPUN"
        "UUHNUHUWUNWNUHNHUWUSWHHPHSHNSPSUSHNNNNPWUPHNHWNUPHUSWNUSNSNHPSUPPHNSUHPWHN"
        "SPUSHNNNHUNWHNHNNSNNSPWSNHNNNUUHSPUSNUSNHNNHNUUNHNHNWNNHNNHUPWNUHHPPNHPSSN"
        "WNNSNWHPHHNSNUWHHHSHPUUUHPWHHWPPPNUPWNPNNPNNNNNHHPNWPWN"
    ),
    "events46": (
        "SNWNHPHNPPSNSSWSNSUNHUHSPHUPNNUPSSWNNHWNWHSPSSHSHNPNPPPHPSPWWSNHPUPHSPNNHU"
        "PSNPHUHHNWNHNNHNUHNNPSNNNHWUUSHUUSUUSWNNHPPUNNNPNUSUNWSPWNNNHNHSSNWHPUNNWP"
        "HNHSWHSSUHNNUHNNHUHPUUNNSNNPUWPUNPHUPPHWUNWNPHSSHWUNUNHWHUUSNPNNHHNHNNHSNN"
        "HHNSNUNNHHSWNUSNSNWNPNNHNWHSNUPHPWUUNNUNPUNUUPNPWHWPSWNWNNHS"
    ),
    "events47": (
        "HPPNNNNNNNUHHUPPPNUNSWNHWWNNPNSSWHPUUNSHHHSUSUWUNNHSNUSNPSPSSPPNNHWUSHHHSW"
        "UPUHNWPPNUSSWNUNNUSHHHHHNNSUNUNPNHWNPNHPNWUHNWNNHWSNHNPSSHSHNPUSUPHHPNHNWN"
        "SUPNSUPUPNHNNWWHNSWHWPHNPWNHHSUNNWSPPUNWNNUSHWSNHHNPUPSHHNSSNNWNPNWNSNUPUN"
        "UNSNUWWSUUHSPPNHUNNNHSPHSUSUWUUPPNNHWNUNPNNPNHUNWSNNHHHWNP"
    ),
    "events48": (
        "HPWUUUHSHPHWHNSPNWWPPNUNNPNHUPSSNWNHNPSHPNPUPWSHNNNUUNHPPUSSNHNNHSNPSNSHHS"
        "WSUNNNWUPSNHHWPSHSUPWUPWUWNSNHNPHWNNUUPNWNHHPSHNUNNHSHHNNNHNWUHSNSHSNHPNUS"
        "NUHHNHNNNPHHUNNHWHNUHSUNUNHHNSPUNWNHHHHPNNUHNWNNHSNNUUNHUPHSSHSSHHSSPUSUWW"
        "NSUWUWWPHPWNPSHNNPWWWPUUPNSUNNPSNNNHHPPWPPNHUNNNSWNHSPNNNUNSNPUNU"
    ),
    "events49": (
        "PPHWHUNHPNUHNNSPHUNHUSUNNHHSWWNUNHWNPNUSPNHHSWSSUPSUNWPNUHPSNNNUNNNSPWNWNW"
        "PHHHPNNSNHHSHPWSWSHUHWNSUNHNPSSHUNWHNNNHPWSUNPPSWPSHHNHPSWSNNWPPSUWPWPSUUP"
        "HHNHNHWUNNUHSUSNHNPNNNNSHNHHHHUSPNHWSNNHPNPNSNUUNWUNPNUNNSNUNNNUSWPUUWHHNH"
        "WSUNUWPNNHSNPWPHPNUNHHHSNPHPSNPWUUUNPNSPNNHHWHNNHNNNUUUNSSUNPSHNNH"
    ),
    "events50": (
        "SUWNPUNSNSHPSSUNNNWSNUNSPNPNPSUNPPHWHSUPSPHNNNNNNUUWNSPPSPSUPUPHUUSSSHWNHH"
        "SUNUPHNNWHSWWNHPNNPHNNNNNNPNSWSSSHWSHNHSPNHWNNHHUNPHUUHSWSHHWNNHWUNNHWSPNP"
        "UHSNPSNHNWHUHHNWUNUSNNHWWNHPUUNWUSPPNUNHPPNNPPNUPUNHSNHWNNNHNHNSPPUNSNHHHH"
        "NPPWNWHUPNSNNHPNNUNPHHNUNHNWUWUPSUHUHSHPHHNNWSSNUNUNSUWU"
    ),
    "events51": (
        "PPNWUNNUUHPPHNSHUSUWNNPPWHSPHUHUPPUNHPHNPPWSNNUPWSHHHWNNSWHWHNUUNSUUSNHSNN"
        "PUPPNPSUPNHNNHNNNNPWWNHHNNHNNSWNNNUHUNUSHUNPNSHUNHNUUNPWHSHNUWPSSHNWPWSWUH"
        "WPNUHNNNSHNNNSSNWUSNUUWHNSSUSHNUNNWNWUHNSPSNHSUWNHUPNWNNHNNPNHHHSHSSPWPHNP"
        "HSNNUPSHHUNPHUPSHWNNWNPWHHSPUHHNPNNUSSPSUPUHSNNSNNNHNPNNSNP"
    ),
    "events52": (
        "NHHWUSNUNSHHPNNNHPNSHNWNWUSPWPNHUNHWWHNUWNSNHNUSHPUHHNSNNNUPPSSNNNUSHSWHWW"
        "PNPUNNUHUSSNNNHWNNHPPNHNHPHSNPWHHSUNSNWNSUWNUPNNHHHHNNNNNPNPUNNHSPNPNWSPNH"
        "NHHPHSPNNSPUHSNSNPHNHNNHUSWUHSPPNNWUPUSNWSNPHWNUPNWUUPUNSSHPUPUPUHNNPNHNNH"
        "USPWWUHPNUHHUNSSNWUNSSWHNSNPHNHUNPPSNHNWNHUNHHHUHUNHSUNSHNHPSSPUU"
    ),
    "events53": (
        "SNHHNHSHPHNNNHNSHWSSSHNNUHPWNUNWNSHWWSWUUNPNNHNNHUHWNWNUPNNSWHNHWNSNUWWPNH"
        "UNSNNSSHHSNUWSUPSNUNHPNSNNSHPWSNPPSPWHPSHNHHSPUHSNHWSNWPSPNNHNNWNHWUUWPPNH"
        "NNHPSHNUNSHUPWUHHSNUNNUSNHNUPSUUNSNSNNPPSNNPHUSNNHPNPNHUUUUUNUUNSHNSUHHPPN"
        "UNUNNSUNWNPNPNNUPUPNNHPSNHPHPNWSWWHPWUHWHUNWUPNNSWHPNNUPNPNHNNWPHN"
    ),
    "events54": (
        "HSPNHNPSUHPNSHNSNNWHSUHSPUNWHWNNNWHNPNSWHPWNNSHNWUWUNNNNHPPPUNSHNSHUHHNPNS"
        "HNUHHUHHNNHNHHNNPUUHNNHSNHNSNWHSWNHNSSPNPUHWSHWNHWPPUPHUNNHUPNWUSWNUNUUNWS"
        "PHSSNHPUSHWNWUHHNWHWNUUNHSNPHHNNNWPPHPPNPWNHHNSNPNSUNPUPPPSSSNNNPSNNUNNPSN"
        "UNHUUSNUHNUPNHSPNSUNHWUSPUPNNUUPSWNPUNHNUNNNSNUSNPNPNSHSHHWWWUSW"
    ),
    "events55": (
        "UWHUNNWHSNWSPNUNNNNSHNNNUNWHPHSPUSHNSNPUNHHHNUNUSNPHNNHPPWUWNNSNUUUSHWHNNS"
        "WUNWSWUNSHHSHSSHWUHUNNPHSNSNUUNPNNUHNUPSUNPHHNUNHWSWSNWPWSNPNNHNHPHWHPHNNU"
        "PUNPNPHUNPNHNNHSWNPPSWSUNHUPWHNSSUWNHUNSNWSSUNPNSNNHNNSUWNSHPSNSUHPUWHNNPP"
        "NNNPHNHUWHPHNWSNNHPNHNHPSHPSWWNPUNNPPUSHNNPUPWHNHPPSHHHHUWHPUNHNNUNS"
    ),
    "events56": (
        "NHWHSHNHPWNNNNNHSNSNPNPWWNHUHSNNNSNUNNWUPNHUUNUNSSHHHSPNHNHUHSNUWHHHNPHPUN"
        "SHNNUHNSPNNHWNNPHHNPSSPNUSPUSNPNNWPPUSNUNSSNPSSNNPHUWHPNSNWWWNUSUUSUNNHNPN"
        "PPNHNPSHPUPSNWSUUPNNSNNNWNNHSUHNNNPSUHNNSSHNSNPHUHHNWHHHWPNPSNHHUWNHHWHUWW"
        "NWNPPHHNHHPWUNHPPWPHNPHSUNHHNNSUHWUSNUNHPUUSWHUNUNUWUNSSWWNNNNPHNNPUHHHNWH"
        "UPS"
    ),
    "events57": (
        "SPHPWWUPNHSNPNUNNUNNNPSUWPPNWUUSNHNPNUHPSUHHNHSSWNSNHHNHHSWPUSNUHNNSPNHHPN"
        "UPNUNHSNNUPNSWHHNUWWNSHHHSNNPNNUNUSHNNHPPSHNPNSUHNUPPNPNHHSSNSUNNPHUHPWUNH"
        "NHWNSNWNNPWWUNPNSHPWHHWPNNSHSNPWSWHWUNWPHHWHSSPNSSUSHNNHUNNPNUSPPSUUNHPWPU"
        "HNWPUNNNWSSSUPHUUWSHNUUUSNPPNNHWNWNUSHUSHNWNUNNUPHN"
    ),
    "events58": (
        "SNNSNNPPNHNNWHUNSUSUUNHWWNNSPNSPUNWPNPHWPPPNSSNNUNUNNWPUPNPNWNNWSUUNHNNUPU"
        "UUNUHPSHUWWNWNHHUSWUWUPNNSSPUSNNNWWNSNNWHHNNWNHWPNNSPWUPHNSUPHHWNWHHNPNHPN"
        "NUHHHPWSUUNSHSPUHUHNWSNNHNNNSHNHHNSWHUSSHNHHNUNHSSPSHNSUUPHHSUNUHHNNSPNNPN"
        "HHPHHPHWSHPUHPNNHNUUSUWNUHNUSNSWHPHNNPHWNSPNPUPNWPHNSSNNPWNHNSNHSHPN"
    ),
}
INTERLEAVED_GENRES = {
    "N": "event news",
    "H": "event news",
    "P": "analysis prose (written)",
    "S": "State of the Union style (written)",
    "U": "UN General Debate style (written)",
    "W": "newswire style (written)",
}


def _genre(item: dict[str, Any]) -> str:
    if item.get("corpus") in GENRES:
        return GENRES[item["corpus"]]
    ident = str(item["id"])
    prefix, _, number = ident.partition("-")
    if prefix in INTERLEAVED and number.isdigit():
        return INTERLEAVED_GENRES[INTERLEAVED[prefix][int(number) - 1]]
    if prefix in WRITTEN_ANALYSIS_FROM and number.isdigit():
        blocks = [(WRITTEN_ANALYSIS_FROM[prefix], 180, "analysis prose (written)")]
        for first, last, genre in blocks + WRITTEN_STYLE_BLOCKS:
            if first <= int(number) <= last:
                return genre
    return "analysis prose (written)" if ident.startswith("analysis") else "event news"


def _row(name: str, n: int, r: dict[str, Any]) -> str:
    rules = r["rules"]
    cells = [name, str(n)]
    for t in CLAIM_TYPES:
        pt = rules["per_type"][t]
        cells.append(f"{pt['precision']:.2f} / {pt['recall']:.2f} / {pt['f1']:.2f}")
    attrs = r["attributes"]
    cells += [
        f"**{rules['macro_f1']:.3f}**",
        f"{r['baseline']['macro_f1']:.3f}",
        f"{attrs['negated']['accuracy']:.3f}",
        f"{attrs['hedged']['accuracy']:.3f}",
        f"{attrs['actors_exact']['accuracy']:.3f}",
    ]
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--no-model", action="store_true", help="the rules alone")
    args = ap.parse_args(argv)
    rules = default_rules()
    model = choose_model(enabled=not args.no_model)
    head = (
        "| split | sentences | threat P / R / F1 | alliance P / R / F1 | "
        "economic_leverage P / R / F1 | macro F1 | keyword baseline | negated | hedged | "
        "actors exact |\n|---|---:|---|---|---|---:|---:|---:|---:|---:|"
    )
    print(f"Tagger `{tagger_version(rules, model)}`.\n\n{head}")
    pools: dict[str, list[dict[str, Any]]] = {"dev": [], "held": [], "val": []}
    labels = {"dev": "development", "held": "held-out", "val": "validation"}
    for pool, names in (("dev", DEV), ("held", HELD), ("val", VAL)):
        for name in names:
            gold = load_gold(ROOT / "gold" / f"{name}.jsonl", args.corpus)
            pools[pool] += [{**g, "_file": name} for g in gold]
            print(_row(f"`{name}`", len(gold), evaluate(rules, gold, model=model)))
        label = f"**all {labels[pool]}**"
        print(_row(label, len(pools[pool]), evaluate(rules, pools[pool], model=model)))
        if model is not None:
            alone = evaluate(rules, pools[pool])
            print(_row(f"all {labels[pool]}, rules alone", len(pools[pool]), alone))
    near = flag(pools["held"], [g["text"] for g in pools["dev"]])
    apart = [g for g, dup in zip(pools["held"], near, strict=True) if not dup]
    left_out = len(near) - len(apart)
    extra = [(f"held-out without near-duplicates of development ({left_out} left out)", apart)]
    for round_no, names in FRESH.items():
        items = [g for g in pools["held"] if g["_file"] in names]
        extra.append((f"held-out files of round {round_no} (" + ", ".join(names) + ")", items))
    for label, items in extra:
        if not items:
            continue
        print(_row(label, len(items), evaluate(rules, items, model=model)))
        if model is not None:
            print(_row(f"{label}, rules alone", len(items), evaluate(rules, items)))
    print("\nBy genre (held-out pool; macro F1 of the tagger, the rules alone and the keyword")
    print("baseline):\n")
    print("| genre | sentences | macro F1 | rules alone | baseline |\n|---|---:|---:|---:|---:|")
    for genre in sorted({_genre(g) for g in pools["held"]}):
        items = [g for g in pools["held"] if _genre(g) == genre]
        r = evaluate(rules, items, model=model)
        alone = evaluate(rules, items)["rules"]["macro_f1"]
        base = r["baseline"]["macro_f1"]
        print(
            f"| {genre} | {len(items)} | {r['rules']['macro_f1']:.3f} | {alone:.3f} | {base:.3f} |"
        )
    held = evaluate(rules, pools["held"], model=model)
    print("\nReliability of `confidence` (held-out pool):\n")
    print("| confidence | claims | precision |\n|---|---:|---:|")
    for row in held["reliability"]:
        if row["claims"]:
            print(f"| {row['bucket']} | {row['claims']} | {row['precision']:.3f} |")
    if model is not None:
        print("\nClaims the learned model added (held-out pool):\n")
        print("| rule | claims | right | precision |\n|---|---:|---:|---:|")
        for row in held["rule_diagnostics"]:
            if row["rule_id"].startswith("learned."):
                precision = "—" if row["precision"] is None else f"{row['precision']:.3f}"
                print(f"| `{row['rule_id']}` | {row['hits']} | {row['correct']} | {precision} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
