"""Joining the two senses: which product changed (weights) and whose hand did it (cameras).

A pick is explained by a product hypothesis (which units left the plate) and an assignment of
those units to the people whose hands were there: two shoppers reaching into one plate within a
second each take their own unit, so the units of one weight change may go to different carts.
Each person who reached is likely to have taken something, and one who did not reach is not; the
posterior is summed over everything that gives the same receipts, and the best is applied. A
put-back is joint too: the unit must come from the cart of the person who put it back, and the
weight it restores tells which unit, so (person, units) pairs are ranked together.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass

from walkout.engine.products import (
    UNITS_PRIOR,
    Hypothesis,
    ProductModel,
    Unit,
    normal_pdf,
    posterior,
)
from walkout.engine.tracking import Proximity

NOBODY_LIKELIHOOD = 0.003
"""Likelihood that nobody tracked made a change (an untracked person, a shelf knock)."""

TAKE_GIVEN_REACH = 0.9
"""How often a hand that reached into a plate took something from it."""

MAX_ACTORS = 3
"""People considered for one pick (the nearest by evidence), besides 'nobody'."""

MAX_HYPOTHESES = 6
"""Product hypotheses carried into the assignment (the likeliest by weight)."""

MAX_OUTCOMES = 4
"""Outcomes of a pick (who got which products) kept for judging the steps of a run together."""

Outcome = tuple[tuple[str, str], ...]
"""What an event puts on receipts: sorted (account or person, sku) pairs, one per unit."""

UNKNOWN_OUTCOME: Outcome = (("?", "unknown"),)
"""The outcome of a change no product explains: nobody's receipt is known from it."""


@dataclass(frozen=True, slots=True)
class Share:
    """What one person (or nobody) took or put back in an event."""

    person: Proximity | None
    hypothesis: Hypothesis


@dataclass(frozen=True, slots=True)
class Decision:
    """The chosen explanation of one event and what competed with it."""

    hypothesis: Hypothesis  # the whole event's explanation; ``shares`` split it among people
    shares: tuple[Share, ...]
    confidence: float
    product_alternatives: tuple[tuple[Hypothesis, float], ...]
    person_alternatives: tuple[tuple[Proximity, float], ...]
    # the likeliest outcomes of a pick with their posteriors, best first (without the doubt a
    # misplaced unit's identity adds, which ``confidence`` holds)
    outcomes: tuple[tuple[Outcome, float], ...] = ()
    # the people a pick weighed as takers, and how likely each was to have reached in
    reaches: tuple[tuple[str, float], ...] = ()
    # per account (or untracked person) of a pick: the posterior that what the event puts on
    # their receipt is right, summed over every outcome that gives them the same units
    accounts: tuple[tuple[str, float], ...] = ()

    @property
    def unknown(self) -> bool:
        return any(s.hypothesis.unknown for s in self.shares)

    def confidence_of(self, who: str) -> float:
        """How sure the event is of what it puts on ``who``'s receipt (an account, or
        ``person-N``): at least ``confidence``, which is sure of every receipt at once."""
        return dict(self.accounts).get(who, self.confidence)


def rank_people(people: list[Proximity]) -> list[tuple[Proximity | None, float]]:
    """Posterior over the people near an event, with 'nobody' as the last resort."""
    options: list[tuple[Proximity | None, float]] = [(p, p.likelihood) for p in people]
    options.append((None, NOBODY_LIKELIHOOD))
    probs = posterior([s for _, s in options])
    ranked = [(opt[0], pr) for opt, pr in zip(options, probs, strict=True)]
    ranked.sort(key=lambda x: (-x[1], x[0].pid if x[0] else 1 << 30))
    return ranked


def _who(person: Proximity | None) -> str:
    if person is None:
        return ""
    return person.account if person.account is not None else f"person-{person.pid}"


def _own(key: Outcome, who: str) -> Counter[str]:
    """What an outcome puts on one receipt."""
    return Counter(sku for w, sku in key if w == who)


def _marginals(totals: dict[Outcome, float], best: Outcome, grand: float) -> dict[str, float]:
    """Per account (or untracked person) named in any outcome: the share of ``totals`` that
    puts on their receipt what ``best`` does. A receipt is right or wrong on its own; one
    shopper's doubt (two units or three of theirs, which of two others took the second
    unit) is no doubt about a neighbour's."""
    known = [k for k in totals if k != UNKNOWN_OUTCOME]
    whos = sorted({w for k in known for w, _ in k if w})
    out: dict[str, float] = {}
    for who in whos:
        mine = _own(best, who)
        out[who] = sum(totals[k] for k in known if _own(k, who) == mine) / grand
    return out


def _tokens(hyp: Hypothesis) -> list[tuple[str, Unit | None]]:
    out: list[tuple[str, Unit | None]] = []
    for sku, n in hyp.planogram:
        out.extend([(sku, None)] * n)
    out.extend((u.sku, u) for u in hyp.units)
    return out


def _share(
    person: Proximity | None, tokens: list[tuple[str, Unit | None]], of: Hypothesis
) -> Share:
    counts: dict[str, int] = {}
    units: list[Unit] = []
    for sku, unit in tokens:
        if unit is None:
            counts[sku] = counts.get(sku, 0) + 1
        else:
            units.append(unit)
    planogram = tuple(sorted(counts.items()))
    part = Hypothesis(
        planogram, tuple(units), of.score, of.expected_g * len(tokens) / max(len(_tokens(of)), 1)
    )
    return Share(person, part)


def decide_pick(hyps: list[Hypothesis], people: list[Proximity]) -> Decision:
    """Best (product hypothesis, assignment of its units to people) for a weight decrease."""
    actors: list[Proximity | None] = [
        *sorted(people, key=lambda p: (-p.likelihood, p.pid))[:MAX_ACTORS],
        None,
    ]
    reach = [min(p.likelihood, 1.0) if p is not None else NOBODY_LIKELIHOOD for p in actors]
    totals: dict[Outcome, float] = {}
    best_of: dict[Outcome, tuple[float, Hypothesis, tuple[int, ...]]] = {}
    per_hyp: dict[int, float] = {}
    per_actor: dict[int, float] = {}
    top = hyps[:MAX_HYPOTHESES]
    for h_index, hyp in enumerate(top):
        if hyp.unknown:
            key: Outcome = UNKNOWN_OUTCOME
            totals[key] = totals.get(key, 0.0) + hyp.score
            best_of.setdefault(key, (hyp.score, hyp, ()))
            per_hyp[h_index] = per_hyp.get(h_index, 0.0) + hyp.score
            continue
        tokens = _tokens(hyp)
        base = hyp.score / UNITS_PRIOR.get(len(tokens), 0.01)
        # units of one product are alike: who took how many of them is one way, counted once,
        # not once per order of the units (as if each were another product, which made a
        # multi-unit pick likelier the more people stood near to share it out)
        alike = [
            k for k in range(len(tokens) - 1) if tokens[k][1] is None and tokens[k + 1] == tokens[k]
        ]
        for assign in itertools.product(range(len(actors)), repeat=len(tokens)):
            if any(assign[k] > assign[k + 1] for k in alike):
                continue
            score = base
            for i, r in enumerate(reach):
                n = assign.count(i)
                score *= (
                    r * TAKE_GIVEN_REACH * UNITS_PRIOR.get(n, 0.01)
                    if n
                    else 1.0 - r * TAKE_GIVEN_REACH
                )
            key = tuple(sorted((_who(actors[a]), tokens[k][0]) for k, a in enumerate(assign)))
            totals[key] = totals.get(key, 0.0) + score
            if key not in best_of or score > best_of[key][0]:
                best_of[key] = (score, hyp, assign)
            per_hyp[h_index] = per_hyp.get(h_index, 0.0) + score
            for a in set(assign):
                per_actor[a] = per_actor.get(a, 0.0) + score
    grand = sum(totals.values()) or 1.0
    best_key = max(totals, key=lambda k: (totals[k], k))
    _, hyp, assign = best_of[best_key]
    if hyp.unknown:
        shares: tuple[Share, ...] = (Share(None, hyp),)
    else:
        tokens = _tokens(hyp)
        shares = tuple(
            _share(actors[a], [tokens[k] for k, who in enumerate(assign) if who == a], hyp)
            for a in sorted(set(assign))
        )
    products = sorted(
        ((top[i], pr / grand) for i, pr in per_hyp.items()), key=lambda x: (-x[1], x[0].describe())
    )
    person_alts = sorted(
        ((actors[a], pr / grand) for a, pr in per_actor.items() if actors[a] is not None),
        key=lambda x: -x[1],
    )
    accounts: dict[str, float] = {}
    if hyp.unknown:
        person_alts = _present(people)
    else:
        accounts = _marginals(totals, best_key, grand)
        for share in shares:
            who = _who(share.person)
            if who in accounts:
                accounts[who] *= math.prod(u.sku_confidence for u in share.hypothesis.units)
    return Decision(
        hypothesis=hyp,
        shares=shares,
        # a misplaced unit whose identity was itself in doubt passes the doubt on
        confidence=totals[best_key] / grand * math.prod(u.sku_confidence for u in hyp.units),
        product_alternatives=tuple(products[:5]),
        person_alternatives=tuple((p, pr) for p, pr in person_alts if p is not None)[:5],
        outcomes=tuple(
            (k, totals[k] / grand)
            for k in sorted(totals, key=lambda k: (-totals[k], k))[:MAX_OUTCOMES]
        ),
        reaches=tuple((_who(a), r) for a, r in zip(actors, reach, strict=True) if a is not None),
        accounts=tuple(sorted(accounts.items())),
    )


def outcome_of(shares: tuple[Share, ...]) -> Outcome:
    """The outcome a decision's shares put on receipts (as ``decide_pick`` keys them)."""
    return tuple(sorted((_who(s.person), sku) for s in shares for sku, _ in _tokens(s.hypothesis)))


@dataclass(frozen=True, slots=True)
class RunStep:
    """A pick cut out of a run, as ``run_confidence`` weighs it."""

    t_step: float
    outcomes: tuple[tuple[Outcome, float], ...]  # the likeliest, with their posteriors
    reaches: dict[str, float]  # who was weighed as having reached in, and how likely


def run_confidence(
    steps: list[RunStep], chosen: list[Outcome], repeat_factor: float, repeat_within_s: float
) -> float:
    """Posterior of what the picks cut out of one run put on receipts, judged together.

    Two shoppers lifting like units a second apart in one plate: which of them made which step
    is often a coin toss, and each step alone is unsure, but either way each receipt gets one
    unit. So the steps' outcomes are combined, and every combination that gives the receipts of
    the ``chosen`` outcomes counts. Each step alone counted everyone near who took nothing in
    it against its outcome (a hand that reached in takes something); judged together, one
    reach is one action: a person who took one step of the run is owed nothing for the steps
    near it they did not take, one who took none counts against once, and one who took two
    steps this close together counts ``repeat_factor`` per repeat. Outcomes left out of
    ``steps`` count against the chosen ones.
    """
    return run_posteriors(steps, chosen, repeat_factor, repeat_within_s)[0]


def run_posteriors(
    steps: list[RunStep], chosen: list[Outcome], repeat_factor: float, repeat_within_s: float
) -> tuple[float, dict[str, float]]:
    """``run_confidence``, and per account (or person) named in the steps: the posterior that
    the run puts on their receipt what the ``chosen`` outcomes do (a receipt is right or wrong
    on its own, so one taker's doubt is not another's)."""
    want = Counter(pair for key in chosen for pair in key)
    mass = math.prod(sum(p for _, p in step.outcomes) for step in steps)
    people = sorted({w for step in steps for w in step.reaches if w})
    whos = sorted(
        {w for step in steps for key, _ in step.outcomes for w, _ in key if w} | set(people)
    )
    whos = [w for w in whos if w != UNKNOWN_OUTCOME[0][0]]
    mine = {w: _own(tuple(want.elements()), w) for w in whos}
    total = same = 0.0
    per: dict[str, float] = dict.fromkeys(whos, 0.0)
    for combo in itertools.product(*(step.outcomes for step in steps)):
        score = math.prod(p for _, p in combo)
        for who in people:
            took = [j for j, (key, _) in enumerate(combo) if any(w == who for w, _ in key)]
            misses = [
                1.0 - TAKE_GIVEN_REACH * min(step.reaches.get(who, 0.0), 1.0) for step in steps
            ]
            if not took:
                score *= min(misses) / math.prod(misses)
                continue
            times = sorted(steps[j].t_step for j in took)
            score *= repeat_factor ** sum(
                1 for a, b in itertools.pairwise(times) if b - a < repeat_within_s
            )
            for j, step in enumerate(steps):
                near = any(abs(step.t_step - t) < repeat_within_s for t in times)
                if j not in took and near:
                    score /= misses[j]
        total += score
        got = Counter(pair for key, _ in combo for pair in key)
        if got == want:
            same += score
        if any(key == UNKNOWN_OUTCOME for key, _ in combo):
            continue
        for who in whos:
            if Counter(sku for w, sku in got.elements() if w == who) == mine[who]:
                per[who] += score
    if total <= 0:
        return 0.0, dict.fromkeys(whos, 0.0)
    return same / total * mass, {w: v / total * mass for w, v in per.items()}


PutBack = tuple[tuple[Share, ...], float]
"""Who put back which units (one share each), and the score of that explanation."""

MAX_CROSS_CART = 12
"""Units per cart considered when two people put back one unit each at once."""


def putback_joint(
    model: ProductModel,
    plates: tuple[int, ...],
    added_g: float,
    ranked: list[tuple[Proximity | None, float]],
    carts: dict[str, list[Unit]],
    extra_sd_g: float = 0.0,
) -> list[PutBack]:
    """Every way nearby people could have put back what ``added_g`` grams restored.

    One person returning one to three units of their cart, or two people of different
    accounts returning one unit each within the same settle (crowded put-backs).
    """
    options: list[PutBack] = []
    near = [(p, pr) for p, pr in ranked if p is not None and p.account is not None]
    for person, p_person in near:
        cart = carts.get(person.account or "", [])
        for hyp in model.putback_hypotheses(plates, added_g, cart, extra_sd_g):
            options.append(((Share(person, hyp),), p_person * hyp.score))
    meas_sd = model.measure_sd(plates, extra_sd_g)
    for (a, pa), (b, pb) in itertools.combinations([x for x in near if x[1] > 0.05][:3], 2):
        if a.account == b.account:
            continue
        for u in carts.get(a.account or "", [])[:MAX_CROSS_CART]:
            for v in carts.get(b.account or "", [])[:MAX_CROSS_CART]:
                sd = math.sqrt(meas_sd**2 + u.weight_sd_g**2 + v.weight_sd_g**2)
                score = (
                    pa * pb * UNITS_PRIOR[1] ** 2 * normal_pdf(added_g, u.weight_g + v.weight_g, sd)
                )
                score *= model.home_factor(plates, (u,)) * model.home_factor(plates, (v,))
                hu = Hypothesis((), (u,), score, u.weight_g)
                hv = Hypothesis((), (v,), score, v.weight_g)
                options.append(((Share(a, hu), Share(b, hv)), score))
    return options


def decide_putback(
    model: ProductModel,
    plates: tuple[int, ...],
    added_g: float,
    people: list[Proximity],
    carts: dict[str, list[Unit]],
    extra_sd_g: float = 0.0,
) -> Decision:
    ranked = rank_people(people)
    options = putback_joint(model, plates, added_g, ranked, carts, extra_sd_g)
    unknown = model.unknown()
    options.append(((Share(None, unknown),), unknown.score))
    probs = posterior([score for _, score in options])
    order = sorted(range(len(options)), key=lambda i: -probs[i])
    shares = options[order[0]][0]

    def key(option: tuple[Share, ...]) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
        return tuple(
            sorted((_who(s.person), tuple(sorted(s.hypothesis.skus().items()))) for s in option)
        )

    # Two people of one party are one receipt: sum what puts the same units in the same cart.
    best_key = key(shares)
    same = sum(probs[i] for i, (option, _) in enumerate(options) if key(option) == best_key)
    people_post: dict[int, float] = {}
    by_pid: dict[int, Proximity] = {}
    for i, (option, _) in enumerate(options):
        for share in option:
            if share.person is not None:
                people_post[share.person.pid] = people_post.get(share.person.pid, 0.0) + probs[i]
                by_pid[share.person.pid] = share.person
    units = tuple(u for s in shares for u in s.hypothesis.units)
    whole = Hypothesis(
        (),
        units,
        options[order[0]][1],
        sum(u.weight_g for u in units),
        shares[0].hypothesis.unknown,
    )
    person_alts = [
        (by_pid[pid], pr) for pid, pr in sorted(people_post.items(), key=lambda x: -x[1])
    ]
    return Decision(
        hypothesis=whole,
        shares=shares,
        confidence=same,
        product_alternatives=tuple((_merged(options[i][0]), probs[i]) for i in order[:5]),
        person_alternatives=tuple(_present(people) if whole.unknown else person_alts[:5]),
    )


def _present(people: list[Proximity]) -> list[tuple[Proximity, float]]:
    """Who was at the plate, by hands and bodies alone: for a change no product explains,
    whoever made it may hold a unit the engine gave to someone else, or never saw taken."""
    return [(p, pr) for p, pr in rank_people(people) if p is not None][:5]


def _merged(shares: tuple[Share, ...]) -> Hypothesis:
    """One hypothesis standing for all the units of a put-back explanation (for reports)."""
    if len(shares) == 1:
        return shares[0].hypothesis
    units = tuple(u for s in shares for u in s.hypothesis.units)
    return Hypothesis((), units, shares[0].hypothesis.score, sum(u.weight_g for u in units))
