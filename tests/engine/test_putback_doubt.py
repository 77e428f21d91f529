"""A put-back the engine is unsure of leaves its doubt on the plate for whoever takes from it."""

from __future__ import annotations

from tests.engine.test_hard_cases import SOUP_A, SOUP_B, new_scene, play, visit


def test_an_unsure_put_back_at_home_leaves_its_doubt_for_the_next_taker() -> None:
    """A takes a tomato soup (350.5 g, plate 0) and a pea soup (353.0 g, plate 1), then puts
    the pea soup down on the tomato plate. Which of the two came back is unsure (2.5 g apart),
    so A's receipt goes to review. B then takes 353 g from the tomato plate: it may be A's pea
    soup lying there, so B's receipt must go to review too, not out as a sure tomato soup."""
    scene = new_scene(near_equal=True)
    acts = [(SOUP_A, 5.5, 350.5), (SOUP_B, 9.0, 353.0), (SOUP_A, 13.5, -353.0)]
    visit(scene, "ta", "acct-a", 2.0, acts)
    t_exit = visit(scene, "tb", "acct-b", 18.0, [(SOUP_A, 26.0, 353.0)])
    receipts = play(scene, t_exit + 4.0)
    assert receipts["acct-a"].needs_review, receipts["acct-a"]
    assert receipts["acct-b"].needs_review, receipts["acct-b"]
