"""Reference evaluation metrics, computed from a dataset's annotation
documents with nothing of dlrun, for the evaluate tests to check against.

    /usr/bin/python3 reference_metrics.py JSON_DIR MODEL

prints JSON:
    {"n_items": N,
     "class": {"accuracy": a, "confusion": {"truth|predicted": count}},
     "box": {"map50": m, "map50_95": m, "per_label": {label: {"ap50", "ap50_95"}}}}

Ground truth is every annotation without metadata.user.model; predictions
are those whose metadata.user.model.name is MODEL. Boxes follow dtlpy-metrics
and COCO: per item and label, an IoU matrix matched greedily on its largest
cell at IoU >= 0.5 (ties: the more confident prediction, then the earlier
ground truth); each prediction keeps the IoU of its match (0 unmatched); per
label the predictions are ranked by confidence (ties in item order, then
document order), and AP at threshold t is the mean over the recall levels
0, 0.01, .., 1 of the best precision reached at that recall or beyond
(COCO's 101-point interpolation), counting a prediction true when its IoU is
>= t. mAP averages the labels that have ground truth; AP@[.5:.95] averages
the thresholds 0.50, 0.55, .., 0.95."""
import json
import os
import sys


def model_of(a):
    return a.get("metadata", {}).get("user", {}).get("model")


def box_of(a):
    c = a["coordinates"]
    l, r = sorted((c[0]["x"], c[1]["x"]))
    t, b = sorted((c[0]["y"], c[1]["y"]))
    return l, t, r, b


def iou(p, q):
    w = min(p[2], q[2]) - max(p[0], q[0])
    h = min(p[3], q[3]) - max(p[1], q[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter
    return inter / union


def average_precision(preds, n_gt, threshold):
    """preds: [(confidence, iou)] in input order."""
    ranked = sorted(preds, key=lambda p: -p[0])  # stable: ties keep input order
    tp, precision, recall = 0, [], []
    for k, (_, score) in enumerate(ranked):
        tp += score >= threshold
        precision.append(tp / (k + 1))
        recall.append(tp / n_gt)
    for k in range(len(precision) - 2, -1, -1):
        precision[k] = max(precision[k], precision[k + 1])
    total = 0.0
    for level in range(101):
        reached = [k for k, r in enumerate(recall) if r >= level / 100]
        total += precision[reached[0]] if reached else 0.0
    return total / 101


def main():
    root, model = sys.argv[1], sys.argv[2]
    docs = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".json") and not f.startswith("."):
                docs.append(json.load(open(os.path.join(dirpath, f))))
    docs.sort(key=lambda d: d["filename"])

    confusion, correct, n_class = {}, 0, 0
    box_preds, box_gt = {}, {}
    for d in docs:
        gt = [a for a in d["annotations"] if model_of(a) is None]
        mine = [a for a in d["annotations"] if (model_of(a) or {}).get("name") == model]
        gt_class = [a["label"] for a in gt if a["type"] == "class"]
        pred_class = [a["label"] for a in mine if a["type"] == "class"]
        if gt_class or pred_class:
            # one class per item on both sides in these tests
            assert len(gt_class) == 1 and len(pred_class) == 1, d["filename"]
            key = gt_class[0] + "|" + pred_class[0]
            confusion[key] = confusion.get(key, 0) + 1
            correct += gt_class[0] == pred_class[0]
            n_class += 1
        labels = {a["label"] for a in gt + mine if a["type"] == "box"}
        for label in sorted(labels):
            g = [box_of(a) for a in gt if a["type"] == "box" and a["label"] == label]
            p = [a for a in mine if a["type"] == "box" and a["label"] == label]
            p.sort(key=lambda a: -model_of(a)["confidence"])
            cells = sorted(((iou(gb, box_of(pa)), j, i) for i, gb in enumerate(g) for j, pa in enumerate(p)),
                           key=lambda c: (-c[0], c[1], c[2]))
            gt_used, pred_score = set(), {}
            for score, j, i in cells:
                if score >= 0.5 and i not in gt_used and j not in pred_score:
                    gt_used.add(i)
                    pred_score[j] = score
            box_gt[label] = box_gt.get(label, 0) + len(g)
            box_preds.setdefault(label, []).extend(
                (model_of(a)["confidence"], pred_score.get(j, 0.0)) for j, a in enumerate(p))

    out = {"n_items": len(docs)}
    if n_class:
        out["class"] = {"accuracy": correct / n_class, "confusion": confusion}
    if box_gt:
        per_label = {}
        for label, n in box_gt.items():
            if n == 0:
                continue
            preds = box_preds.get(label, [])
            by_threshold = [average_precision(preds, n, (50 + 5 * t) / 100) for t in range(10)]
            per_label[label] = {"ap50": by_threshold[0], "ap50_95": sum(by_threshold) / 10}
        out["box"] = {
            "map50": sum(v["ap50"] for v in per_label.values()) / len(per_label),
            "map50_95": sum(v["ap50_95"] for v in per_label.values()) / len(per_label),
            "per_label": per_label,
        }
    print(json.dumps(out, indent=1, sort_keys=True))


main()
