"""Look inside a trained network: filters, activations, Grad-CAM and deep dream (`netspec visualize`).

`core` holds the torch side, `montage` makes the pictures; the commands are in
`netspec.cli.visualize_commands`, and nothing heavy is imported until one runs.
"""
