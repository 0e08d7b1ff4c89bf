"""CNL201 gradients-never-cleared and CNL202 accumulator-never-accumulated."""

import textwrap

import pytest

from conftest import lint

PRELUDE = """\
import torch
import torch.nn as nn

model = nn.Linear(4, 2)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
"""
PRELUDE_LINES = PRELUDE.count("\n")


def run(code, path="train.py", prelude=True):
    text = (PRELUDE if prelude else "") + textwrap.dedent(code)
    return lint(text, path, select=("CNL2",))


def spots(code, path="train.py", prelude=True):
    """(code, line, column) of each finding; lines counted in `code` (without the prelude)."""
    shift = PRELUDE_LINES if prelude else 0
    return [(f.code, f.line - shift, f.column) for f in run(code, path, prelude)]


def quiet(code, path="train.py", prelude=True):
    found = run(code, path, prelude)
    assert found == [], [f"{f.code} {f.line}: {f.message}" for f in found]


# ---------------------------------------------------------------------------
# CNL201: positives
# ---------------------------------------------------------------------------

NO_ZERO_GRAD = """\
for epoch in range(10):
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
"""


def test_201_missing_zero_grad_reported_at_backward():
    found = run(NO_ZERO_GRAD)
    assert [(f.code, f.line - PRELUDE_LINES, f.column) for f in found] == [("CNL201", 4, 9)]
    f = found[0]
    assert f.message == (
        "`optimizer.step()` runs every iteration of this loop, but `optimizer`'s gradients are never "
        "cleared, so each `backward()` adds to the gradients of all earlier iterations"
    )
    assert f.hint == "call `optimizer.zero_grad()` at the top of the loop body (or right before `loss.backward()`)"
    assert f.severity.value == "error"
    assert (f.end_line - PRELUDE_LINES, f.end_column) == (4, 24)


def test_201_zero_grad_between_backward_and_step():
    found = run(
        """\
        for x, y in loader:
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
        """
    )
    assert [(f.code, f.line - PRELUDE_LINES, f.column) for f in found] == [("CNL201", 4, 5)]
    assert found[0].message == (
        "`optimizer.zero_grad()` runs after `loss.backward()` and before `optimizer.step()` in the same "
        "iteration, so it discards the gradients just computed and the step has nothing to apply"
    )
    assert found[0].hint == (
        "move `optimizer.zero_grad()` to the top of the loop body, before the forward pass "
        "(or after `optimizer.step()`)"
    )


def test_201_model_zero_grad_between_backward_and_step():
    assert spots(
        """\
        for x, y in loader:
            loss = criterion(model(x), y)
            loss.backward()
            model.zero_grad()
            optimizer.step()
        """
    ) == [("CNL201", 4, 5)]


def test_201_misplaced_clear_then_conditional_step_still_discards():
    assert spots(
        """\
        for i, (x, y) in enumerate(loader):
            criterion(model(x), y).backward()
            optimizer.zero_grad(set_to_none=True)
            if (i + 1) % 4 == 0:
                optimizer.step()
        """
    ) == [("CNL201", 3, 5)]


def test_201_zero_grad_only_in_enclosing_epoch_loop():
    found = run(
        """\
        for epoch in range(3):
            optimizer.zero_grad()
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
        """
    )
    assert [(f.code, f.line - PRELUDE_LINES, f.column) for f in found] == [("CNL201", 5, 9)]
    assert found[0].message == (
        "`optimizer.step()` runs every iteration of this loop, but `optimizer`'s gradients are cleared "
        "only in the enclosing loop, so they pile up across the steps of this loop"
    )
    assert found[0].hint == "move `optimizer.zero_grad()` into this loop, at the top of its body"


def test_201_zero_grad_only_before_the_loop():
    assert spots(
        """\
        optimizer.zero_grad()
        for x, y in loader:
            criterion(model(x), y).backward()
            optimizer.step()
        """
    ) == [("CNL201", 3, 5)]


def test_201_zero_grad_after_the_loop():
    assert spots(
        """\
        for x, y in loader:
            criterion(model(x), y).backward()
            optimizer.step()
        optimizer.zero_grad()
        """
    ) == [("CNL201", 2, 5)]


def test_201_gan_only_one_optimizer_cleared():
    found = run(
        """\
        opt_d = torch.optim.Adam(disc.parameters())
        opt_g = torch.optim.Adam(gen.parameters())
        for real in loader:
            opt_d.zero_grad()
            loss_d = d_loss(real)
            loss_d.backward()
            opt_d.step()
            loss_g = g_loss(real)
            loss_g.backward()
            opt_g.step()
        """
    )
    assert [(f.code, f.line - PRELUDE_LINES, f.column) for f in found] == [("CNL201", 9, 5)]
    assert "`opt_g.step()`" in found[0].message and "`opt_g`'s gradients" in found[0].message
    assert found[0].hint == "call `opt_g.zero_grad()` at the top of the loop body (or right before `loss_g.backward()`)"


def test_201_grad_scaler():
    found = run(
        """\
        scaler = torch.cuda.amp.GradScaler()
        for x, y in loader:
            with torch.autocast("cuda"):
                loss = criterion(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        """
    )
    assert [(f.code, f.line - PRELUDE_LINES, f.column) for f in found] == [("CNL201", 5, 5)]
    assert found[0].message.startswith("`scaler.step(optimizer)` runs every iteration")


def test_201_accelerate_backward_without_zero_grad():
    assert spots(
        """\
        for batch in train_dataloader:
            outputs = model(**batch)
            accelerator.backward(outputs.loss)
            optimizer.step()
            lr_scheduler.step()
        """
    ) == [("CNL201", 3, 5)]


def test_201_while_loop_and_async_for():
    assert spots(
        """\
        step = 0
        while step < 100:
            criterion(model(x), y).backward()
            optimizer.step()
            step += 1

        async def train():
            async for x, y in stream:
                criterion(model(x), y).backward()
                optimizer.step()
        """
    ) == [("CNL201", 3, 5), ("CNL201", 9, 9)]


def test_201_backward_and_step_in_helper_reported_at_call():
    found = run(
        """\
        def train_step(x, y):
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            return loss

        for x, y in loader:
            train_step(x, y)
        """
    )
    assert [(f.code, f.line - PRELUDE_LINES, f.column) for f in found] == [("CNL201", 8, 5)]


def test_201_optimizer_recognised_by_constructor():
    assert spots(
        """\
        o = torch.optim.AdamW(model.parameters())
        for x, y in loader:
            criterion(model(x), y).backward()
            o.step()
        """
    ) == [("CNL201", 3, 5)]


def test_201_self_optimizer_in_class():
    assert spots(
        """\
        class Trainer:
            def fit(self, loader):
                for x, y in loader:
                    loss = self.criterion(self.model(x), y)
                    loss.backward()
                    self.optimizer.step()
        """
    ) == [("CNL201", 5, 13)]


def test_201_self_attribute_callables_are_not_opaque_methods():
    assert spots(
        """\
        import lightning as L

        class Model(L.LightningModule):
            def __init__(self):
                super().__init__()
                self.criterion = nn.CrossEntropyLoss()
                self.automatic_optimization = False

            def training_step(self, batch, batch_idx):
                opt = self.optimizers()
                for x, y in batch:
                    loss = self.criterion(self(x), y)
                    self.manual_backward(loss)
                    opt.step()
        """
    ) == [("CNL201", 13, 13)]


def test_201_notebook_clear_output_is_not_a_gradient_clear():
    assert spots(
        """\
        from IPython.display import clear_output

        for epoch in range(10):
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                history.clear()
            clear_output(wait=True)
            plot(history)
        """
    ) == [("CNL201", 6, 9)]


def test_201_argparse_opt_passed_to_helper_is_not_an_optimizer():
    assert spots(
        """\
        opt = parser.parse_args()
        for x, y in loader:
            noise = sample_noise(opt.latent_dim)
            criterion(model(x, noise), y).backward()
            optimizer.step()
        """
    ) == [("CNL201", 4, 5)]


def test_201_notebook_cells():
    found = lint(
        PRELUDE
        + "# %%\n"
        + "for x, y in loader:\n"
        + "    loss = criterion(model(x), y)\n"
        + "    loss.backward()\n"
        + "    optimizer.step()\n",
        "train.ipynb",
        select=("CNL2",),
    )
    assert [(f.code, f.cell, f.line, f.column) for f in found] == [("CNL201", 2, 3, 5)]


def test_201_noqa_suppresses():
    quiet(
        """\
        for x, y in loader:
            criterion(model(x), y).backward()  # noqa: CNL201
            optimizer.step()
        """
    )


# ---------------------------------------------------------------------------
# CNL201: negatives
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "body",
    [
        # zero_grad at the top of the body
        """\
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        """,
        # at the end, after step
        """\
        for x, y in loader:
            criterion(model(x), y).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        """,
        # model.zero_grad()
        """\
        for x, y in loader:
            model.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        """,
        # p.grad = None
        """\
        for x, y in loader:
            for p in model.parameters():
                p.grad = None
            criterion(model(x), y).backward()
            optimizer.step()
        """,
        # p.grad.zero_() and p.grad.data.zero_()
        """\
        for x, y in loader:
            criterion(model(x), y).backward()
            optimizer.step()
            for p in model.parameters():
                if p.grad is not None:
                    p.grad.data.zero_()
        """,
        """\
        for x, y in loader:
            [p.grad.zero_() for p in model.parameters()]
            criterion(model(x), y).backward()
            optimizer.step()
        """,
        # inside `with` / `if` / `try`
        """\
        for phase in ["train", "val"]:
            for x, y in loaders[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    loss = criterion(model(x), y)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
        """,
        """\
        for x, y in loader:
            try:
                optimizer.zero_grad()
                criterion(model(x), y).backward()
                optimizer.step()
            except RuntimeError:
                continue
        """,
    ],
)
def test_201_cleared_in_loop(body):
    quiet(body)


def test_201_gradient_accumulation_modulo():
    quiet(
        """\
        for i, (x, y) in enumerate(loader):
            loss = criterion(model(x), y) / accum_steps
            loss.backward()
            if (i + 1) % accum_steps == 0:
                optimizer.step()
                optimizer.zero_grad()
        """
    )


def test_201_accumulation_step_conditional_zero_grad_outside():
    quiet(
        """\
        optimizer.zero_grad()
        for i, (x, y) in enumerate(loader):
            criterion(model(x), y).backward()
            if i % accum_steps == 0:
                optimizer.step()
        """
    )


def test_201_accumulation_with_continue():
    quiet(
        """\
        for i, (x, y) in enumerate(loader):
            criterion(model(x), y).backward()
            if (i + 1) % accum_steps != 0:
                continue
            optimizer.step()
        """
    )


def test_201_full_batch_accumulation_zero_grad_in_epoch_loop():
    quiet(
        """\
        for epoch in range(10):
            optimizer.zero_grad()
            for x, y in loader:
                criterion(model(x), y).backward()
            optimizer.step()
        """
    )


def test_201_helper_defined_in_file_clears():
    quiet(
        """\
        def reset_gradients():
            optimizer.zero_grad()

        def train_one_batch(x, y):
            reset_gradients()
            loss = criterion(model(x), y)
            return loss

        for x, y in loader:
            loss = train_one_batch(x, y)
            loss.backward()
            optimizer.step()
        """
    )


def test_201_self_method_clears():
    quiet(
        """\
        class Trainer:
            def clear(self):
                self.optimizer.zero_grad()

            def train_one_epoch(self, loader):
                for x, y in loader:
                    self.clear()
                    self.loss(x, y).backward()
                    self.optimizer.step()

            def fit(self, loader):
                for epoch in range(10):
                    self.train_one_epoch(loader)
        """
    )


def test_201_inherited_method_in_file_clears():
    quiet(
        """\
        class Base:
            def before_batch(self):
                self.opt.zero_grad()

        class Trainer(Base):
            def fit(self, loader):
                for x, y in loader:
                    self.before_batch()
                    self.loss(x, y).backward()
                    self.opt.step()
        """
    )


def test_201_epoch_loop_calling_train_function_is_not_the_training_loop():
    quiet(
        """\
        def train(loader):
            for x, y in loader:
                optimizer.zero_grad()
                criterion(model(x), y).backward()
                optimizer.step()

        for epoch in range(10):
            train(loader)
        """
    )


def test_201_imported_helper_receiving_optimizer():
    quiet(
        """\
        from utils import train_one_batch, after_step

        for x, y in loader:
            criterion(model(x), y).backward()
            optimizer.step()
            after_step(model, optimizer)
        """
    )


def test_201_unknown_clearing_call():
    quiet(
        """\
        from helpers import reset_grad, clear_gradients

        for x, y in loader:
            reset_grad()
            criterion(model(x), y).backward()
            optimizer.step()

        for x, y in loader:
            clear_gradients(model)
            criterion(model(x), y).backward()
            optimizer.step()
        """
    )


def test_201_unresolved_self_method_may_clear():
    quiet(
        """\
        class Trainer(BaseTrainer):
            def fit(self, loader):
                for x, y in loader:
                    self.before_step()
                    self.loss(x, y).backward()
                    self.optimizer.step()
        """
    )


def test_201_lbfgs_closure():
    quiet(
        """\
        lbfgs = torch.optim.LBFGS(model.parameters())
        for i in range(20):
            def closure():
                lbfgs.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                return loss
            lbfgs.step(closure)
        """
    )


def test_201_lightning_training_step_without_loop():
    quiet(
        """\
        import lightning as L

        class GAN(L.LightningModule):
            def __init__(self):
                super().__init__()
                self.automatic_optimization = False

            def training_step(self, batch, batch_idx):
                g_opt, d_opt = self.optimizers()
                loss = self.compute(batch)
                self.manual_backward(loss)
                g_opt.step()
                return loss

            def configure_optimizers(self):
                return torch.optim.Adam(self.parameters())
        """
    )


def test_201_lightning_manual_optimization_in_loop_cleared():
    quiet(
        """\
        class Model(L.LightningModule):
            def training_step(self, batch, batch_idx):
                opt = self.optimizers()
                for chunk in batch:
                    opt.zero_grad()
                    self.manual_backward(self.compute(chunk))
                    opt.step()
        """
    )


def test_201_gan_both_optimizers_cleared():
    quiet(
        """\
        optimizerD = torch.optim.Adam(netD.parameters())
        optimizerG = torch.optim.Adam(netG.parameters())
        for i, data in enumerate(dataloader):
            netD.zero_grad()
            errD = criterion(netD(data), label)
            errD.backward()
            optimizerD.step()
            netG.zero_grad()
            errG = criterion(netD(netG(noise)), label)
            errG.backward()
            optimizerG.step()
        """
    )


def test_201_gan_clear_other_model_between_backward_and_step():
    quiet(
        """\
        opt_d = torch.optim.Adam(disc.parameters())
        opt_g = torch.optim.Adam(gen.parameters())
        for real in loader:
            opt_d.zero_grad()
            d_loss(real).backward()
            opt_g.zero_grad()
            opt_d.step()
            g_loss(real).backward()
            opt_g.step()
        """
    )


def test_201_not_optimizer_steps():
    quiet(
        """\
        for epoch in range(10):
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()
                scheduler.step()
                lr_scheduler.step()
                sched.step()
                ema.step()
                swa_scheduler.step()
                progress.step()
                obs, reward, done, info = env.step(action)
        """
    )


def test_201_scheduler_named_like_optimizer_but_built_as_scheduler():
    quiet(
        """\
        opt_sched = torch.optim.lr_scheduler.StepLR(optimizer, 10)
        for x, y in loader:
            criterion(model(x), y).backward()
            opt_sched.step()
        """
    )


def test_201_rl_loop_with_env_step_and_cleared_optimizer():
    quiet(
        """\
        for episode in range(1000):
            state = env.reset()
            log_probs, rewards = [], []
            while True:
                action, log_prob = policy.act(state)
                state, reward, done, _ = env.step(action)
                log_probs.append(log_prob)
                rewards.append(reward)
                if done:
                    break
            loss = -torch.stack(log_probs).sum() * sum(rewards)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        """
    )


def test_201_amp_branches_cleared():
    quiet(
        """\
        scaler = torch.cuda.amp.GradScaler()
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            if use_amp:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                optimizer.step()
        """
    )


def test_201_accelerate_accumulate_loop():
    quiet(
        """\
        for epoch in range(num_epochs):
            model.train()
            for step, batch in enumerate(train_dataloader):
                with accelerator.accumulate(model):
                    outputs = model(**batch)
                    loss = outputs.loss
                    accelerator.backward(loss)
                    if accelerator.sync_gradients:
                        accelerator.clip_grad_norm_(model.parameters(), 1.0)
                    optimizer.step()
                    lr_scheduler.step()
                    optimizer.zero_grad()
        """
    )


def test_201_wgan_generator_updated_every_n_critic():
    quiet(
        """\
        optimizer_G = torch.optim.RMSprop(generator.parameters(), lr=5e-5)
        optimizer_D = torch.optim.RMSprop(discriminator.parameters(), lr=5e-5)
        for epoch in range(opt.n_epochs):
            for i, (imgs, _) in enumerate(dataloader):
                optimizer_D.zero_grad()
                loss_D = -torch.mean(discriminator(imgs)) + torch.mean(discriminator(generator(z).detach()))
                loss_D.backward()
                optimizer_D.step()
                for p in discriminator.parameters():
                    p.data.clamp_(-opt.clip_value, opt.clip_value)
                if i % opt.n_critic == 0:
                    optimizer_G.zero_grad()
                    loss_G = -torch.mean(discriminator(generator(z)))
                    loss_G.backward()
                    optimizer_G.step()
        """
    )


def test_201_timm_style_nested_helpers():
    quiet(
        """\
        def train_one_epoch(model, loader, optimizer, loss_fn, loss_scaler=None, accum_steps=1):
            optimizer.zero_grad()
            for batch_idx, (inputs, target) in enumerate(loader):
                need_update = (batch_idx + 1) % accum_steps == 0

                def _forward():
                    with torch.autocast("cuda"):
                        loss = loss_fn(model(inputs), target)
                    return loss / accum_steps

                def _backward(_loss):
                    if loss_scaler is not None:
                        loss_scaler(_loss, optimizer, need_update=need_update)
                    else:
                        _loss.backward()
                        if need_update:
                            optimizer.step()

                loss = _forward()
                _backward(loss)
                if not need_update:
                    continue
                optimizer.zero_grad()
        """
    )


def test_201_hf_no_trainer_accumulation():
    quiet(
        """\
        for epoch in range(args.num_train_epochs):
            model.train()
            for step, batch in enumerate(train_dataloader):
                outputs = model(**batch)
                loss = outputs.loss / args.gradient_accumulation_steps
                accelerator.backward(loss)
                if step % args.gradient_accumulation_steps == 0 or step == len(train_dataloader) - 1:
                    optimizer.step()
                    lr_scheduler.step()
                    optimizer.zero_grad()
                    progress_bar.update(1)
        """
    )


def test_201_manual_gradient_assignment_replaces_gradients():
    quiet(
        """\
        for x, y in loader:
            grads = torch.autograd.grad(criterion(model(x), y), list(model.parameters()))
            for p, g in zip(model.parameters(), grads):
                p.grad = g
            criterion(model(x), y).backward()
            optimizer.step()
        """
    )


def test_201_no_backward_in_loop():
    quiet(
        """\
        for x, y in loader:
            optimizer.step()
        """
    )


def test_201_manual_sgd_without_optimizer():
    quiet(
        """\
        for t in range(500):
            loss = (model(x) - y).pow(2).sum()
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for param in model.parameters():
                    param -= 1e-4 * param.grad
        """
    )


def test_201_deepspeed_engine_step():
    quiet(
        """\
        for batch in loader:
            loss = model_engine(batch)
            model_engine.backward(loss)
            model_engine.step()
        """
    )


def test_201_zero_grad_in_other_cell():
    found = lint(
        PRELUDE
        + "def clear():\n    optimizer.zero_grad()\n"
        + "# %%\n"
        + "for x, y in loader:\n    clear()\n    criterion(model(x), y).backward()\n    optimizer.step()\n",
        "train.ipynb",
        select=("CNL2",),
    )
    assert found == []


def test_201_recursion_is_bounded():
    quiet(
        """\
        def a(x):
            return b(x)

        def b(x):
            return a(x)

        for x, y in loader:
            a(x)
            criterion(model(x), y).backward()
            optimizer.step()
            optimizer.zero_grad()
        """
    )


# ---------------------------------------------------------------------------
# CNL202: positives
# ---------------------------------------------------------------------------

TF_PRELUDE = """\
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.layers.Dense(2)])
optimizer = tf.keras.optimizers.Adam()
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
"""


def tf_run(code, path="train.py"):
    return lint(TF_PRELUDE + textwrap.dedent(code), path, select=("CNL2",))


def tf_spots(code):
    shift = TF_PRELUDE.count("\n")
    return [(f.code, f.line - shift, f.column) for f in tf_run(code)]


def tf_quiet(code):
    found = tf_run(code)
    assert found == [], [f"{f.code} {f.line}: {f.message}" for f in found]


def test_202_tape_gradient_overwrites_accumulator():
    found = tf_run(
        """\
        gradients = None
        for i in range(accumulation_steps):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i], training=True))
            gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        """
    )
    shift = TF_PRELUDE.count("\n")
    assert [(f.code, f.line - shift, f.column) for f in found] == [("CNL202", 5, 5)]
    f = found[0]
    assert f.message == (
        "`gradients` is reset to None before the loop and overwritten by `tape.gradient(...)` in every "
        "iteration; only the last micro-batch reaches `optimizer.apply_gradients(...)`"
    )
    assert f.hint == (
        "accumulate: `gradients = g if gradients is None else [a + b for a, b in zip(gradients, g)]` "
        "(or `gradients[i].assign_add(g)`)"
    )
    assert (f.end_line - shift, f.end_column) == (5, 63)


def test_202_assignment_inside_tape_block():
    assert tf_spots(
        """\
        for step, (xb, yb) in enumerate(dataset):
            accum_grads = [tf.zeros_like(v) for v in model.trainable_variables]
            for micro in range(4):
                with tf.GradientTape() as tape:
                    loss = loss_fn(yb, model(xb))
                    accum_grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(accum_grads, model.trainable_variables))
        """
    ) == [("CNL202", 6, 13)]


def test_202_loss_overwritten_then_backward():
    found = run(
        """\
        acc_loss = 0.0
        for x, y in micro_batches:
            acc_loss = criterion(model(x), y)
        acc_loss.backward()
        optimizer.step()
        """
    )
    assert [(f.code, f.line - PRELUDE_LINES, f.column) for f in found] == [("CNL202", 3, 5)]
    assert found[0].message == (
        "`acc_loss` is set to 0 before the loop and overwritten by `criterion(model(x), y)` in every "
        "iteration; only the last micro-batch reaches `acc_loss.backward()`"
    )
    assert found[0].hint == "accumulate instead of overwriting: `acc_loss += criterion(model(x), y)` (or `acc_loss = acc_loss + ...`)"


def test_202_grads_assigned_into_parameters_after_loop():
    assert spots(
        """\
        grads = None
        for x, y in micro_batches:
            grads = torch.autograd.grad(criterion(model(x), y), list(model.parameters()))
        for p, g in zip(model.parameters(), grads):
            p.grad = g
        optimizer.step()
        """
    ) == [("CNL202", 3, 5)]


def test_202_derived_value_reaches_update():
    assert tf_spots(
        """\
        grads = None
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            grads = tape.gradient(loss, model.trainable_variables)
        grads = [g / 4 for g in grads]
        grads_and_vars = zip(grads, model.trainable_variables)
        optimizer.apply_gradients(grads_and_vars)
        """
    ) == [("CNL202", 5, 5)]


def test_202_post_processing_after_overwrite_still_flagged():
    assert tf_spots(
        """\
        grads = None
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            grads = tape.gradient(loss, model.trainable_variables)
            grads = [tf.clip_by_norm(g, 1.0) for g in grads]
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        """
    ) == [("CNL202", 5, 5)]


def test_202_never_written_in_loop():
    found = tf_run(
        """\
        accum_gradients = [tf.zeros_like(v) for v in model.trainable_variables]
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(accum_gradients, model.trainable_variables))
        """
    )
    shift = TF_PRELUDE.count("\n")
    assert [(f.code, f.line - shift, f.column) for f in found] == [("CNL202", 1, 1)]
    assert found[0].message == (
        "`accum_gradients` is set to zeros before the loop but the loop never adds to it; "
        "`optimizer.apply_gradients(...)` receives the initial value, not the micro-batches' gradients"
    )


def test_202_conditional_overwrite():
    assert spots(
        """\
        loss = None
        for x, y in chunks:
            if x is not None:
                loss = criterion(model(x), y)
        loss.backward()
        """
    ) == [("CNL202", 4, 9)]


# ---------------------------------------------------------------------------
# CNL202: negatives (each correct accumulation form)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "loop",
    [
        # acc = [a + g for a, g in zip(acc, grads)]
        """\
        acc = [tf.zeros_like(v) for v in model.trainable_variables]
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            grads = tape.gradient(loss, model.trainable_variables)
            acc = [a + g for a, g in zip(acc, grads)]
        optimizer.apply_gradients(zip(acc, model.trainable_variables))
        """,
        # acc += g
        """\
        acc_grads = 0
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            acc_grads += tape.gradient(loss, model.trainable_variables)[0]
        optimizer.apply_gradients([(acc_grads, model.trainable_variables[0])])
        """,
        # acc = acc + g
        """\
        grads_sum = 0
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            grads_sum = grads_sum + tape.gradient(loss, model.trainable_variables)[0]
        optimizer.apply_gradients([(grads_sum, model.trainable_variables[0])])
        """,
        # acc[i].assign_add(g)
        """\
        accum = [tf.Variable(tf.zeros_like(v), trainable=False) for v in model.trainable_variables]
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            grads = tape.gradient(loss, model.trainable_variables)
            for j, g in enumerate(grads):
                accum[j].assign_add(g)
        optimizer.apply_gradients(zip(accum, model.trainable_variables))
        """,
        # acc.append(g) / acc.extend
        """\
        all_grads = []
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            all_grads.append(tape.gradient(loss, model.trainable_variables))
        optimizer.apply_gradients(zip(all_grads[-1], model.trainable_variables))
        """,
        """\
        grad_list = []
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            grad_list.extend(tape.gradient(loss, model.trainable_variables))
        optimizer.apply_gradients(zip(grad_list, model.trainable_variables))
        """,
        # acc[i] += g
        """\
        acc = [tf.zeros_like(v) for v in model.trainable_variables]
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            grads = tape.gradient(loss, model.trainable_variables)
            for j in range(len(acc)):
                acc[j] += grads[j]
        optimizer.apply_gradients(zip(acc, model.trainable_variables))
        """,
        # for a, g in zip(acc, grads): a.assign_add(g)
        """\
        acc = [tf.Variable(tf.zeros_like(v)) for v in model.trainable_variables]
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            grads = tape.gradient(loss, model.trainable_variables)
            for a, g in zip(acc, grads):
                a.assign_add(g)
        optimizer.apply_gradients(zip(acc, model.trainable_variables))
        """,
        # acc = g if acc is None else [...]
        """\
        gradients = None
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            g = tape.gradient(loss, model.trainable_variables)
            gradients = g if gradients is None else [a + b for a, b in zip(gradients, g)]
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        """,
        # if acc is None: acc = grads else: acc = [...]
        """\
        gradients = None
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            g = tape.gradient(loss, model.trainable_variables)
            if gradients is None:
                gradients = g
            else:
                gradients = [a + b for a, b in zip(gradients, g)]
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        """,
        # helper defined in the file receives the accumulator
        """\
        def add_into(acc, grads):
            for a, g in zip(acc, grads):
                a.assign_add(g)

        acc = [tf.Variable(tf.zeros_like(v)) for v in model.trainable_variables]
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            add_into(acc, tape.gradient(loss, model.trainable_variables))
        optimizer.apply_gradients(zip(acc, model.trainable_variables))
        """,
        # helper defined in the file updates the global accumulator
        """\
        grad_accum = [tf.Variable(tf.zeros_like(v)) for v in model.trainable_variables]

        def accumulate(grads):
            for a, g in zip(grad_accum, grads):
                a.assign_add(g)

        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            accumulate(tape.gradient(loss, model.trainable_variables))
        optimizer.apply_gradients(zip(grad_accum, model.trainable_variables))
        """,
        # one batch on purpose
        """\
        grads = None
        for xb, yb in dataset.take(1):
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, model(xb))
            grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        """,
        # update inside the loop, not after it
        """\
        grads = None
        for xb, yb in dataset:
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, model(xb))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
        print(grads)
        """,
        # accumulator rebuilt after the loop
        """\
        grads = None
        per_batch = []
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            per_batch.append(tape.gradient(loss, model.trainable_variables))
        grads = [tf.add_n(list(gs)) for gs in zip(*per_batch)]
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        """,
        # keras custom train_step with attribute accumulators
        """\
        class GAModel(tf.keras.Model):
            def __init__(self, n, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.n_acum_step = tf.Variable(0, dtype=tf.int32, trainable=False)
                self.gradient_accumulation = [
                    tf.Variable(tf.zeros_like(v), trainable=False) for v in self.trainable_variables
                ]

            def train_step(self, data):
                self.n_acum_step.assign_add(1)
                x, y = data
                with tf.GradientTape() as tape:
                    loss = self.compiled_loss(y, self(x, training=True))
                gradients = tape.gradient(loss, self.trainable_variables)
                for i in range(len(self.gradient_accumulation)):
                    self.gradient_accumulation[i].assign_add(gradients[i])
                tf.cond(tf.equal(self.n_acum_step, 4), self.apply_accu_gradients, lambda: None)
                return {"loss": loss}

            def apply_accu_gradients(self):
                self.optimizer.apply_gradients(zip(self.gradient_accumulation, self.trainable_variables))
                self.n_acum_step.assign(0)
                for i in range(len(self.gradient_accumulation)):
                    self.gradient_accumulation[i].assign(tf.zeros_like(self.trainable_variables[i]))
        """,
    ],
)
def test_202_accumulates(loop):
    tf_quiet(loop)


def test_202_torch_add_out():
    quiet(
        """\
        acc_grad = torch.zeros(10)
        for x, y in micro_batches:
            g, = torch.autograd.grad(criterion(model(x), y), [w])
            torch.add(acc_grad, g, out=acc_grad)
        w.grad = acc_grad
        optimizer.step()
        """
    )


def test_202_counter_is_not_an_accumulator():
    quiet(
        """\
        step = 0
        for i, (x, y) in enumerate(loader):
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            step = i
        print(step)
        """
    )


def test_202_total_loss_reset_per_epoch():
    quiet(
        """\
        for epoch in range(10):
            total_loss = 0
            for x, y in loader:
                optimizer.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                total_loss += loss.item()
            print(total_loss / len(loader))
        """
    )


def test_202_last_loss_kept_for_logging():
    quiet(
        """\
        loss = None
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        print(loss.item())
        """
    )


def test_202_retry_loop_with_break():
    quiet(
        """\
        loss = None
        for attempt in range(3):
            try:
                loss = criterion(model(x), y)
                break
            except RuntimeError:
                continue
        loss.backward()
        optimizer.step()
        """
    )


def test_202_rl_returns_accumulated():
    quiet(
        """\
        policy_loss = []
        for log_prob, R in zip(saved_log_probs, returns):
            policy_loss.append(-log_prob * R)
        policy_loss = torch.cat(policy_loss).sum()
        policy_loss.backward()
        optimizer.step()
        """
    )


def test_202_rnn_loss_accumulated_over_time():
    quiet(
        """\
        loss = 0
        hidden = None
        for t in range(seq_len):
            out, hidden = rnn(x[t], hidden)
            loss = loss + criterion(out, y[t])
        loss.backward()
        """
    )


def test_202_output_variable_not_about_grads():
    quiet(
        """\
        outputs = None
        for layer in layers:
            outputs = layer(x)
        loss = criterion(outputs, y)
        loss.backward()
        """
    )


def test_202_alias_before_loop():
    tf_quiet(
        """\
        accum_grads = [tf.Variable(tf.zeros_like(v)) for v in model.trainable_variables]
        buffers = accum_grads
        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            for b, g in zip(buffers, tape.gradient(loss, model.trainable_variables)):
                b.assign_add(g)
        optimizer.apply_gradients(zip(accum_grads, model.trainable_variables))
        """
    )


def test_202_global_in_function():
    tf_quiet(
        """\
        total_grads = None

        def step(g):
            global total_grads
            total_grads = g if total_grads is None else total_grads + g

        for i in range(4):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[i], model(x[i]))
            step(tape.gradient(loss, model.trainable_variables)[0])
        optimizer.apply_gradients([(total_grads, model.trainable_variables[0])])
        """
    )


def test_202_notebook_init_in_earlier_cell():
    found = lint(
        TF_PRELUDE
        + "gradients = None\n"
        + "# %%\n"
        + "for i in range(4):\n"
        + "    with tf.GradientTape() as tape:\n"
        + "        loss = loss_fn(y[i], model(x[i]))\n"
        + "    gradients = tape.gradient(loss, model.trainable_variables)\n"
        + "# %%\n"
        + "optimizer.apply_gradients(zip(gradients, model.trainable_variables))\n",
        "train.ipynb",
        select=("CNL2",),
    )
    assert [(f.code, f.cell, f.line, f.column) for f in found] == [("CNL202", 2, 4, 5)]


# ---------------------------------------------------------------------------
# odd code never crashes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "code",
    [
        "",
        "\n\n",
        "f = lambda loss: loss.backward() or opt.step()\n",
        "def f(*args, **kwargs):\n    for a in args:\n        a.backward(); kwargs['opt'].step()\n",
        "for x in y:\n    def g():\n        def h():\n            loss.backward()\n        opt.step()\n",
        "for x in y: loss.backward(); opt.step()\n",
        "while (n := n - 1):\n    loss.backward()\n    optimizer.step()\n    optimizer.zero_grad()\n",
        "match cmd:\n    case 'go':\n        for x in y:\n            loss.backward()\n            opt.step()\n",
        "for x in y:\n    match x:\n        case 1:\n            opt.zero_grad()\n    loss.backward()\n    opt.step()\n",
        "for x in y:\n    [o.step() for o in opts]\n    loss.backward()\n",
        "for x in y:\n    fns[0]()\n    (lambda: 0)()\n    loss.backward()\n    opt.step()\n",
        "for x in y:\n    loss.backward()\n    optimizers[0].step()\n    self.optimizers()[1].step()\n",
        "grads = None\nfor x in y:\n    grads, = f(x)\n    grads.backward()\n",
        "grads = None\nfor x in y:\n    (grads := f(x))\ngrads.backward()\n",
        "loss = 0\nwhile loss < 3:\n    loss = f()\nloss.backward()\n",
        "loss = None\nfor x in y:\n    del loss\nloss.backward()\n",
        "class A:\n    loss = 0\n    for x in y:\n        loss = f(x)\n    loss.backward()\n",
        "for x in y:\n    try:\n        loss.backward()\n    except* ValueError:\n        pass\n    finally:\n        opt.step()\n",
        "async def f():\n    async with lock:\n        async for x in y:\n            await loss.backward()\n            opt.step()\n",
    ],
)
def test_odd_code_does_not_crash(code):
    lint(code, "odd.py", select=("CNL2",))


def test_deep_nesting_does_not_crash():
    code = "for x in y:\n"
    for depth in range(1, 60):
        code += "    " * depth + "if a:\n"
    code += "    " * 60 + "loss.backward(); opt.step()\n"
    lint(code, "deep.py", select=("CNL2",))


def test_weird_calls_in_loop():
    found = spots(
        """\
        for x in y:
            loss.backward()
            optimizers[0].step()
        """
    )
    assert found == [("CNL201", 2, 5)]


def test_call_graph_explosion_is_bounded():
    names = [f"f{i}" for i in range(12)]
    defs = "".join(
        f"def {n}():\n" + "".join(f"    {m}()\n" for m in names if m != n) for n in names
    )
    code = defs + "for x, y in loader:\n    f0()\n    criterion(model(x), y).backward()\n    optimizer.step()\n"
    import time

    start = time.perf_counter()
    found = run(code, prelude=True)
    assert time.perf_counter() - start < 5
    assert found == []  # too much to follow: the rule does not guess


def test_long_expression_chain():
    chain = " + ".join(f"l{i}" for i in range(200))
    code = f"for x, y in loader:\n    loss = {chain}\n    loss.backward()\n    optimizer.step()\n"
    assert spots(code) == [("CNL201", 3, 5)]
    # far deeper than Python's recursion limit: the analysis is iterative
    chain = " + ".join(f"l{i}" for i in range(1200))
    code = f"for x, y in loader:\n    optimizer.zero_grad()\n    loss = {chain}\n    loss.backward()\n    optimizer.step()\n"
    quiet(code)
