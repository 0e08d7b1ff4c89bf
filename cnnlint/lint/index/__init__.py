"""Per-file analyses on CPython's `ast`, owned by the engine and shared by the rules.

Each analysis is a class taking the file's `FileContext`; `ctx.get(AnalysisClass)` builds it on
first use, at most once per file, and keeps it on the context. Rules declare the analyses they use
(`uses = (Bindings, ...)`), so a `--select` builds only what the selected rules read.

- `syntax`: `Syntax` (the tree, the lines, parents, positions in characters; always present),
  `children`/`walk` in source order, `iter_statements`
- `names`, `call_args`, `arguments`, `source_text`, `snippets`: helpers on expressions
- `imports.ImportTable`: local name -> qualified name, from the module's imports
- `bindings.Bindings`: bindings, scopes, calls with qualified names, parents, values (CNL3xx, the
  cross-check's facts); `models`: Keras and torch model facts, losses, compiled models
- `scopes.Scopes`, `flow.ImageFlow`: reaching definitions and the image data flow (CNL101, CNL102);
  `keras_inputs`, `torch_transforms`, `training_inputs`, `image_apis`, `image_scaling`
- `statements.Statements`, `loops.LoopEvents`: statements in blocks, training-loop events (CNL201,
  CNL202); `blocks.Blocks`, `torch_modes.TorchModes`, `autograd` (CNL203, CNL204)
- `augment`, `pins`: augmentation bindings (CNL103), the project's version pins (CNL401-CNL403)
- `scalar_losses.ScalarLosses`: values known to be 0-dim tensors (CNL402's `loss.data[0]`)
"""
