"""Look inside a trained network: filters, activations, Grad-CAM and deep dream (`netspec visualize`).

`core` holds the torch side, `montage` makes the pictures, `cli` is the typer sub-app; nothing
heavy is imported until a command runs.
"""
