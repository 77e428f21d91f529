"""Joining the two senses: which product changed (weights) and whose hand did it (cameras).

For a pick the product and the person are independent given the event, so each is ranked on its
own and the event's confidence is the product of the two posteriors. A put-back is joint: the
unit must come from the cart of the person who put it back, and the weight it restores tells
which unit, so (person, units) pairs are ranked together.
"""

from __future__ import annotations

from dataclasses import dataclass

from walkout.engine.products import Hypothesis, ProductModel, Unit, posterior
from walkout.engine.tracking import Proximity

NOBODY_LIKELIHOOD = 0.01
"""Likelihood that nobody tracked made a change (an untracked person, a shelf knock)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The chosen explanation of one event and what competed with it."""

    hypothesis: Hypothesis
    person: Proximity | None
    confidence: float
    product_alternatives: tuple[tuple[Hypothesis, float], ...]
    person_alternatives: tuple[tuple[Proximity, float], ...]


def rank_people(people: list[Proximity]) -> list[tuple[Proximity | None, float]]:
    """Posterior over the people near an event, with 'nobody' as the last resort."""
    options: list[tuple[Proximity | None, float]] = [(p, p.likelihood) for p in people]
    options.append((None, NOBODY_LIKELIHOOD))
    probs = posterior([s for _, s in options])
    ranked = [(opt[0], pr) for opt, pr in zip(options, probs, strict=True)]
    ranked.sort(key=lambda x: (-x[1], x[0].pid if x[0] else 1 << 30))
    return ranked


def decide_pick(hyps: list[Hypothesis], people: list[Proximity]) -> Decision:
    probs = posterior([h.score for h in hyps])
    products = sorted(zip(hyps, probs, strict=True), key=lambda x: -x[1])
    ranked = rank_people(people)
    best_hyp, p_hyp = products[0]
    best_person, p_person = ranked[0]
    return Decision(
        hypothesis=best_hyp,
        person=best_person,
        confidence=p_hyp * p_person,
        product_alternatives=tuple(products[:5]),
        person_alternatives=tuple((p, pr) for p, pr in ranked[:5] if p is not None),
    )


def putback_joint(
    model: ProductModel,
    plates: tuple[int, ...],
    added_g: float,
    ranked: list[tuple[Proximity | None, float]],
    carts: dict[str, list[Unit]],
) -> list[tuple[Hypothesis, Proximity | None, float]]:
    """(units, person, score) for every unit or pair of units a nearby person could put back."""
    joint: list[tuple[Hypothesis, Proximity | None, float]] = []
    for person, p_person in ranked:
        if person is None or person.account is None:
            continue
        cart = carts.get(person.account, [])
        for hyp in model.putback_hypotheses(plates, added_g, cart):
            joint.append((hyp, person, p_person * hyp.score))
    return joint


def decide_putback(
    model: ProductModel,
    plates: tuple[int, ...],
    added_g: float,
    people: list[Proximity],
    carts: dict[str, list[Unit]],
) -> Decision:
    ranked = rank_people(people)
    joint = putback_joint(model, plates, added_g, ranked, carts)
    joint.append((model.unknown_putback(), None, model.unknown_putback().score))
    probs = posterior([s for _, _, s in joint])
    order = sorted(range(len(joint)), key=lambda i: -probs[i])
    hyp, person, _ = joint[order[0]]
    people_post: dict[int, float] = {}
    for i, (_, p, _) in enumerate(joint):
        if p is not None:
            people_post[p.pid] = people_post.get(p.pid, 0.0) + probs[i]
    by_pid = {p.pid: p for p, _ in ranked if p is not None}
    return Decision(
        hypothesis=hyp,
        person=person,
        confidence=probs[order[0]],
        product_alternatives=tuple((joint[i][0], probs[i]) for i in order[:5]),
        person_alternatives=tuple(
            (by_pid[pid], pr) for pid, pr in sorted(people_post.items(), key=lambda x: -x[1])[:5]
        ),
    )
