#!/usr/bin/env python3
"""Checks a ModelGPT-rs text adapter against the Python reference stack (torch + transformers + peft).

Usage:
    python3 scripts/check_peft.py --base assets/minilm --adapter OUT_DIR [--max-length 64] [--tol 1e-3]

OUT_DIR is what `cargo run --release --example text_lora -- ... --test-jsonl F --out OUT_DIR` wrote:
`adapter_config.json`, `adapter_model.safetensors`, `classifier.safetensors`, `labels.json`,
`merged/` and `predictions.jsonl` (text, label, logits computed in Rust).

The script
1. loads `PeftModel.from_pretrained(BertModel.from_pretrained(base), OUT_DIR)` and checks that every
   LoRA tensor PEFT holds equals the file (so no key was silently skipped);
2. recomputes the logits of every text in `predictions.jsonl` (truncation to --max-length tokens,
   mean pooling over real tokens, L2 norm, then the head from `classifier.safetensors`) and
   compares them with the Rust logits;
3. does the same with the merged checkpoint `merged/` loaded by `BertModel.from_pretrained`.

It exits 1 when a difference exceeds --tol. It needs torch, transformers, peft and safetensors,
which the project does not install (they are large); run it in your own environment.
"""

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, type=Path, help="folder of the base model (all-MiniLM-L6-v2)")
    ap.add_argument("--adapter", required=True, type=Path, help="folder written by text_lora --out")
    ap.add_argument("--max-length", type=int, default=64, help="token limit used when the adapter was evaluated")
    ap.add_argument("--tol", type=float, default=1e-3, help="largest allowed absolute logit difference")
    ap.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = ap.parse_args()

    import torch
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, BertModel

    torch.manual_seed(0)
    preds = [json.loads(line) for line in (args.adapter / "predictions.jsonl").read_text().splitlines() if line.strip()]
    if not preds:
        print("predictions.jsonl is empty", file=sys.stderr)
        return 1
    texts = [p["text"] for p in preds]
    rust_logits = torch.tensor([p["logits"] for p in preds], dtype=torch.float32)

    tok = AutoTokenizer.from_pretrained(str(args.base))
    batch = tok(texts, padding=True, truncation=True, max_length=args.max_length, return_tensors="pt")
    head = load_file(str(args.adapter / "classifier.safetensors"))
    weight, bias = head["classifier.weight"], head["classifier.bias"]  # [K, d], [K]

    def logits_of(model) -> "torch.Tensor":
        model.eval()
        with torch.no_grad():
            hidden = model(**batch).last_hidden_state  # [n, seq, d]
            keep = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * keep).sum(1) / keep.sum(1).clamp_min(1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            return pooled @ weight.T + bias

    # 1. PEFT loading: every tensor in the file must be the one PEFT uses.
    base = BertModel.from_pretrained(str(args.base))
    peft_model = PeftModel.from_pretrained(base, str(args.adapter))
    saved = load_file(str(args.adapter / "adapter_model.safetensors"))
    state = peft_model.state_dict()
    mismatched = []
    for key, tensor in saved.items():
        # PEFT inserts the adapter name ("default") before ".weight" in its live state dict.
        live_key = key.replace(".weight", ".default.weight")
        live = state.get(live_key)
        if live is None or live.shape != tensor.shape or not torch.equal(live, tensor):
            mismatched.append(key)
    n_lora_modules = sum(1 for name, _ in peft_model.named_modules() if name.endswith("lora_A.default"))

    peft_logits = logits_of(peft_model)
    peft_diff = (peft_logits - rust_logits).abs().max().item()

    # 3. The merged checkpoint, a plain BertModel.
    merged = BertModel.from_pretrained(str(args.adapter / "merged"))
    merged_logits = logits_of(merged)
    merged_diff = (merged_logits - rust_logits).abs().max().item()
    # PEFT's own merge must agree with our merged file too.
    peft_merged = peft_model.merge_and_unload()
    peft_merged_diff = (logits_of(peft_merged) - merged_logits).abs().max().item()

    agree = (peft_logits.argmax(1) == rust_logits.argmax(1)).float().mean().item()
    labels = json.loads((args.adapter / "labels.json").read_text())
    index = {l: i for i, l in enumerate(labels)}
    truth = torch.tensor([index[p["label"]] for p in preds])
    accuracy = (peft_logits.argmax(1) == truth).float().mean().item()
    result = {
        "texts": len(texts),
        "adapter_tensors": len(saved),
        "adapter_tensors_mismatched": mismatched,
        "lora_modules": n_lora_modules,
        "max_abs_logit_diff_peft_vs_rust": peft_diff,
        "max_abs_logit_diff_merged_vs_rust": merged_diff,
        "max_abs_logit_diff_peft_merge_vs_merged_file": peft_merged_diff,
        "argmax_agreement": agree,
        "python_test_accuracy": accuracy,
        "versions": {
            "torch": torch.__version__,
            "peft": __import__("peft").__version__,
            "transformers": __import__("transformers").__version__,
        },
    }
    ok = not mismatched and max(peft_diff, merged_diff, peft_merged_diff) <= args.tol and n_lora_modules > 0
    result["ok"] = ok
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k}: {v}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
