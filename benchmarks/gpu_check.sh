#!/usr/bin/env bash
# The one prepared device check: run it first in a session that is lent a GPU, and copy the
# table it ends with into benchmarks/RESULTS.md ("GPU check").
#
#     bash benchmarks/gpu_check.sh [OUT]          # OUT defaults to $OUT, else /tmp/gpu_check
#
# What it runs (each a real `netspec train`; ExecutionEnvironment 'auto' picks CUDA, bf16
# autocast and channels-last there):
#   1. the seed spec (specs/mnist_matlab.net) on the built-in digits, a few hundred steps;
#   2. ResNet-18 (imagePretrainedNetwork, 4 classes) on synthetic 224×224 images, ~300 steps;
#   3. the seed spec again under torchrun (DDP over NCCL; one rank per GPU);
#   4. ResNet-50 the same way as 2, for the MFU of its steps (summary.json's `mfu`);
#   5. `netspec profile` of ResNet-50 on the GPU (CUDA events per layer), and its GPU test;
#   6. the training-memory estimate against one float32 step on the GPU, with the allocator's
#      peak (`torch.cuda.max_memory_allocated`) beside the saved-tensor measurement (issue 16).
# Sizes can be made small to try the script on a CPU: IMAGES_PER_CLASS=8 EPOCHS=1 bash ...
# (about a minute on the 2-core CI machine; the GPU run takes a few minutes with its data).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-${OUT:-/tmp/gpu_check}}
IMAGES_PER_CLASS=${IMAGES_PER_CLASS:-1600}   # 4 classes: 6,400 images, 80 steps of 64 per epoch
EPOCHS=${EPOCHS:-4}                          # ResNet-18: ~320 steps
MNIST_EPOCHS=${MNIST_EPOCHS:-$((EPOCHS * 2))}  # the built-in digits: 37 steps of 128 per epoch
GPUS=${GPUS:-$(python -c "import torch; print(max(torch.cuda.device_count(), 1))")}
mkdir -p "$OUT"

python - <<'EOF'
import torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, devices {torch.cuda.device_count()}"
      + (f", {torch.cuda.get_device_name(0)}, bf16 {torch.cuda.is_bf16_supported()}" if torch.cuda.is_available() else ""))
EOF

# synthetic 224×224 RGB images in 4 class folders (each class its own colour bias: learnable)
OUT="$OUT" IMAGES_PER_CLASS="$IMAGES_PER_CLASS" python - <<'EOF'
import os
from pathlib import Path

import numpy as np
from PIL import Image

root, count = Path(os.environ["OUT"]) / "synthetic224", int(os.environ["IMAGES_PER_CLASS"])
rng = np.random.default_rng(0)
for index, name in enumerate(["red", "green", "blue", "grey"]):
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.glob("*.png"))) >= count:
        continue
    for i in range(count):
        image = rng.integers(0, 160, (224, 224, 3), dtype=np.uint8)
        if index < 3:
            image[..., index] += 90
        Image.fromarray(image).save(folder / f"{i:05d}.png")
print(f"synthetic data: {root} (4 classes x {count})")
EOF

for net in resnet18 resnet50; do
    cat > "$OUT/$net.net" <<EOF
% $net with a 4-class head, for the device check
net = imagePretrainedNetwork("$net", NumClasses=4);
options = trainingOptions('sgdm', 'InitialLearnRate', 0.01, 'MiniBatchSize', 64, 'MaxEpochs', $EPOCHS, ...
    'ValidationFrequency', 50);
EOF
done

netspec train specs/mnist_matlab.net --data builtin --epochs "$MNIST_EPOCHS" --out "$OUT/mnist" --overwrite -q
netspec train "$OUT/resnet18.net" --data "$OUT/synthetic224" --out "$OUT/resnet18" --overwrite -q
python -m torch.distributed.run --standalone --nproc_per_node "$GPUS" -m netspec.cli \
    train specs/mnist_matlab.net --data builtin --epochs "$MNIST_EPOCHS" --out "$OUT/mnist_ddp" --overwrite -q
netspec train "$OUT/resnet50.net" --data "$OUT/synthetic224" --epochs 1 --out "$OUT/resnet50" --overwrite -q

OUT="$OUT" python - <<'EOF'
import json
import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

table = Table(title="netspec train on the device (summary.json of each run)")
for column in ("run", "device", "iterations", "seconds", "images/s", "GFLOP/s", "MFU", "final loss", "accuracy"):
    table.add_column(column, justify="left" if column in ("run", "device") else "right")
for run in ("mnist", "resnet18", "mnist_ddp", "resnet50"):
    summary = json.loads((Path(os.environ["OUT"]) / run / "summary.json").read_text())
    held = summary.get("validation") or summary.get("test") or {}
    flops = summary.get("achieved_flops_per_second")
    table.add_row(run, str(summary.get("device_name", summary["device"])), f"{summary['iterations']:,}",
                  f"{summary['seconds']:.1f}", f"{summary['images_per_second']:,.0f}",
                  f"{flops / 1e9:,.1f}" if flops else "—", f"{100 * summary['mfu']:.1f}%" if summary.get("mfu") else "—",
                  f"{summary['final_loss']:.4f}" if summary["final_loss"] is not None else "—",
                  f"{100 * held['accuracy']:.1f}%" if held.get("accuracy") is not None else "—")
Console(width=160).print(table)
EOF

netspec profile specs/resnet50.net --batch-size 64 --repeat 10 --warmup 3 --format json > "$OUT/profile_resnet50.json"
netspec profile specs/resnet50.net --batch-size 64 --repeat 10 --warmup 3 | tail -n 4
python -m pytest -q -p no:cacheprovider tests/backends/test_profile.py -k gpu
python benchmarks/memory_vs_measured.py --device "$(python -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')" \
    --specs mnist_matlab lenet5 resnet18 japanese_vowels_bilstm --batch 1 32 128
