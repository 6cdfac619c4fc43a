#!/usr/bin/env bash
# Look inside a trained MNIST network with the four `netspec visualize` pictures
# (seed 004 §1.2 "Visualisation des filtres appris", seed 003 "Visualisation des réseaux").
#
#   examples/look_inside.sh [--quick] [--run RUN --layer LAYER] [--out DIR]
#
# Without --run it first trains the course's network, specs/mnist_matlab.net, on the built-in
# MNIST subset (2 epochs; 1 with --quick) into DIR/run, and shows its first ReLU ('relu').
# With --run, any run folder or checkpoint of a network trained on the ten MNIST digits works;
# --layer names the layer whose activations to show. The pictures, for examples/digits/digit_7.png
# and class 7, go to DIR (default runs/look_inside): filters.png, activations.png, gradcam.png,
# dream.png. --quick also dreams with fewer gradient steps.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
run="" layer="relu" out="runs/look_inside" epochs=2 dream_steps=(--iterations 10 --levels 3)
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) epochs=1 dream_steps=(--iterations 3 --levels 2); shift ;;
        --run) run="$2"; shift 2 ;;
        --layer) layer="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "look_inside.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
examples="${here#"$PWD"/}"  # relative to the current folder when inside it, for shorter commands
image="$examples/digits/digit_7.png"

show() { echo "\$ $*"; "$@"; }

if [[ -z "$run" ]]; then
    run="$out/run"
    show netspec train "$examples/../specs/mnist_matlab.net" --epochs "$epochs" --out "$run" --overwrite --quiet
fi
show netspec visualize filters "$run" -o "$out/filters.png"
show netspec visualize activations "$run" "$image" --layer "$layer" -o "$out/activations.png"
show netspec visualize gradcam "$run" "$image" --class 7 -o "$out/gradcam.png"
show netspec visualize dream "$run" --class 7 "${dream_steps[@]}" -o "$out/dream.png"
