"""The second renderer (Pango and Cairo) and the photo effects shared by both."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "model"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vocr_train import data, render  # noqa: E402
from vocr_train.render_pango import PangoCairo, font_description, pango_mask  # noqa: E402

TEXT = "Nguyễn Thị Ẫn: /usr/lib/x86_64, 12,5 kg/m² — Quyết định số 27/QĐ-UBND"


@pytest.fixture(scope="module")
def families(cache_dir):
    return {split: data.font_families(cache_dir, split) for split in ("train", "val")}


@pytest.fixture(scope="module")
def fonts(families):
    rng = np.random.default_rng(5)
    return [data.pick_font(families["train"], rng) for _ in range(6)]


def test_a_seed_draws_the_same_image_and_pango_differs_from_pillow(fonts):
    for mode in render.MODES:
        a = render.render_line(TEXT, fonts[0], np.random.default_rng(3), mode, "pango")
        b = render.render_line(TEXT, fonts[0], np.random.default_rng(3), mode, "pango")
        pil = render.render_line(TEXT, fonts[0], np.random.default_rng(3), mode, "pil")
        assert np.array_equal(a, b)
        assert a.shape != pil.shape or not np.array_equal(a, pil)


def test_unknown_renderer_is_refused(fonts):
    with pytest.raises(ValueError, match="renderer"):
        render.render_line("abc", fonts[0], np.random.default_rng(0), "clean", "svg")


def test_pango_loads_the_family_of_the_file_it_was_given(fonts):
    context = PangoCairo.FontMap.get_default().create_context()
    for path in fonts:
        wanted = font_description(path)
        loaded = context.load_font(wanted).describe()
        assert loaded.get_family() == wanted.get_family(), path
        assert loaded.get_weight() == wanted.get_weight(), path


def test_no_family_name_is_on_both_sides_of_the_split(families):
    # Pango picks fonts by family name: a name shared by a training and a
    # validation file would let validation lines be drawn in training fonts.
    names = {split: {font_description(p).get_family() for fam in fams for p in fam}
             for split, fams in families.items()}
    assert not names["train"] & names["val"]


def test_neighbouring_lines_add_ink_outside_the_line_box(fonts):
    rng = np.random.default_rng(1)
    mask, top, bottom, baseline, own = pango_mask(TEXT, fonts[1], 24, rng, neighbours=True)
    assert own is not None and own.shape == mask.shape
    assert top < baseline < bottom
    rows = np.flatnonzero(own.max(axis=1) > 20)
    assert top - 8 <= rows[0] and rows[-1] <= bottom + 8  # its own ink stays near its box
    outside = np.ones(mask.shape[0], bool)
    outside[rows[0]:rows[-1] + 1] = False
    assert mask[outside].sum() > 0 and own[outside].sum() == 0
    alone = pango_mask(TEXT, fonts[1], 24, np.random.default_rng(1), neighbours=False)
    assert alone[4] is None


def test_the_crop_follows_the_line_not_its_neighbours(fonts):
    # Clean lines are 13-48 px high whether or not neighbours were drawn.
    rng = np.random.default_rng(2)
    heights = [render.render_line(TEXT, fonts[i % len(fonts)], rng, "clean", "pango").shape[0] for i in range(60)]
    assert 12 <= min(heights) and max(heights) <= 48


def test_a_bent_line_keeps_its_ink_and_its_box_follows():
    mask = np.zeros((30, 300), np.uint8)
    mask[10:20, 10:290] = 255
    box = np.array([[10, 10], [290, 10], [290, 20], [10, 20], [10, 18], [290, 18]], np.float64)
    bent, moved = render._bend(mask, box, np.random.default_rng(4), size=24, hard=True)
    assert bent.shape[1] == mask.shape[1] and bent.shape[0] > mask.shape[0]
    assert abs(int(bent.sum()) - int(mask.sum())) < 0.05 * mask.sum()
    rows = [np.flatnonzero(bent[:, x] > 127) for x in (12, 288)]
    assert [abs(r.min() - m) <= 1.5 for r, m in zip(rows, moved[[0, 1], 1])] == [True, True]


def test_photo_effects_keep_the_image_shape_and_range():
    rng = np.random.default_rng(6)
    img = np.full((32, 200, 3), 200, np.float32)
    img[10:22, 20:180] = 30
    for effect in (render._glare, render._sensor_noise, render._chroma_blur):
        out = effect(rng, img.copy())
        assert out.shape == img.shape and out.dtype == np.float32
        assert np.isfinite(out).all()
    assert render._glare(rng, img.copy()).mean() > img.mean()
