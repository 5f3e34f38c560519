"""The rules' evaluation: one pure function from a job's facts and the ordered rules to the
:class:`~hub_server.rules.model.Ruling`.

Rules run in order; each rule whose conditions hold *fires* and applies its actions. The
conditions always look at the job as submitted (an earlier rule's cap or forced duplex does
not change which later rules match), so the order only decides which rule stops the others:
a rule that deletes the job or holds it ends the evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub_server.rules.model import JobFacts, Rule, Ruling

__all__ = ["evaluate"]


def evaluate(rules: Sequence[Rule], job: JobFacts) -> Ruling:
    """What ``rules`` make of ``job`` (see the module docstring)."""
    duplex, mono, copies, group = job.duplex, job.mono, job.copies, ""
    fired: list[str] = []
    reasons: list[str] = []
    notices: list[str] = []
    for rule in rules:
        if not rule.conditions.matches(job):
            continue
        fired.append(rule.name)
        actions = rule.actions
        if actions.notify:
            notices.append(f"rule {rule.name!r}: {actions.notify}")
        if actions.delete:
            return Ruling(
                True, duplex, mono, copies, group, tuple(fired), actions.delete_reason, tuple(notices)
            )
        changes = (
            actions.force_duplex and not duplex,
            actions.force_mono and not mono and job.color_pages > 0,
            0 < actions.copies_max < copies,
            bool(actions.printer_group) and actions.printer_group != group,
        )
        duplex = duplex or actions.force_duplex
        mono = mono or actions.force_mono
        copies = min(copies, actions.copies_max) if actions.copies_max else copies
        group = actions.printer_group or group
        reason = rule.note or rule.name
        if any(changes) and reason not in reasons:
            reasons.append(reason)
        if actions.hold:
            break
    return Ruling(False, duplex, mono, copies, group, tuple(fired), "; ".join(reasons), tuple(notices))
