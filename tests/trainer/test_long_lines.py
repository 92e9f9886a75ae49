"""Lines wider than the model's maximum width are cut in blank gaps and read in pieces."""
import numpy as np
import pytest

from predictor import Reading, join_readings, split_columns

SPEC = {"height": 32, "max_width": 512}  # split_width defaults to max_width


def words_image(word_px: int, gap_px: int, width: int, height: int = 32) -> np.ndarray:
    """Dark 'words' of word_px columns on white, gap_px blank columns apart."""
    image = np.full((height, width), 250, np.uint8)
    x = 4
    while x < width:
        image[10:-10, x : min(width, x + word_px)] = 20  # ink well under half the pixels, as in text
        x += word_px + gap_px
    return image


def assert_tiles(spans, width, limit):
    """Consecutive spans over the whole width, none wider than the limit or narrower than a quarter of it."""
    assert spans[0][0] == 0 and spans[-1][1] == width
    for (a, b, _), (c, _, _) in zip(spans, spans[1:]):
        assert b == c
    assert all(limit // 4 <= b - a <= limit for a, b, _ in spans), spans


def test_a_line_that_fits_is_one_piece():
    image = words_image(40, 12, 512)
    assert split_columns(image, SPEC) == [(0, 512, False)]


def test_long_line_is_cut_in_word_gaps_into_pieces_the_model_takes():
    image = words_image(50, 12, 2000)
    spans = split_columns(image, SPEC)
    assert len(spans) in (4, 5)  # 2000 / 512: 4 pieces if the gaps allow it
    assert_tiles(spans, 2000, 512)
    ink = (image < 128).any(axis=0)
    for _, cut, space in spans[:-1]:
        assert not ink[cut] and space  # 12 px at 32 px height is a word space
    assert spans[-1][2] is False


def test_narrow_gaps_join_without_a_space():
    image = words_image(30, 3, 1400)  # letter gaps, 9 % of the height
    spans = split_columns(image, SPEC)
    assert len(spans) >= 3 and not any(space for _, _, space in spans)
    assert_tiles(spans, 1400, 512)


def test_a_rule_through_the_whole_line_does_not_hide_the_gaps():
    image = words_image(50, 12, 2000)
    image[25:27, :] = 60  # underline
    spans = split_columns(image, SPEC)
    assert len(spans) in (4, 5) and all(space for _, _, space in spans[:-1])


def test_no_gap_at_all_still_cuts_within_the_limit():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 3000), dtype=np.uint8)
    spans = split_columns(image, SPEC)
    assert_tiles(spans, 3000, 512 * 40 // 32)


def test_limit_follows_the_source_height():
    image = words_image(100, 24, 2000, height=64)  # 2000 px at 64 px high is 1000 px at 32
    spans = split_columns(image, SPEC)
    assert len(spans) == 2
    assert_tiles(spans, 2000, 1024)


def test_joined_reading_spaces_and_confidences():
    a = Reading("Xin chào", 0.9, [0.9] * 8)
    b = Reading("Việt Nam", 0.5, [0.5] * 8)
    joined = join_readings([a, b], [True, False])
    assert joined.text == "Xin chào Việt Nam"
    assert len(joined.char_confidences) == len(joined.text)
    assert joined.char_confidences[8] == 0.5
    assert 0.5 < joined.confidence < 0.9
    assert join_readings([a, b], [False, False]).text == "Xin chàoViệt Nam"
    assert join_readings([a, Reading("", 0.3, [])], [True, False]).text == "Xin chào"
    # a space before a piece that read nothing goes to the next piece that read something
    assert join_readings([a, Reading("", 0.3, []), b], [True, False, False]).text == "Xin chào Việt Nam"


def test_the_shipped_model_reads_a_paragraph_line_in_pieces(cache_dir):
    """100-character clean lines, far beyond 512 px at 32 px high: read in pieces they
    score near the model's clean CER; squeezed into 512 px they would be unreadable."""
    import os

    from predictor import Predictor, greedy_decode, pad_batch, preprocess
    from vocr_train.data import paragraph_lines
    from vocr_train.evaluate import score
    from vocr_train.vocab import MODEL_DIR

    predictor = Predictor(os.path.join(MODEL_DIR, "repository", "vocr_line"))
    if not predictor.manifest.get("evaluation", {}).get("variants"):
        pytest.skip("needs the trained default bundle")
    lines = paragraph_lines(cache_dir, 6, seed=5)
    images, texts = [im for im, _ in lines], [t for _, t in lines]
    assert all(len(t) >= 90 for t in texts)
    pieces = [r.text for r in predictor.recognize(images)]
    spec = predictor.manifest["input"]
    batch, widths = pad_batch([preprocess(im, spec) for im in images], spec["pad_value"])
    squeezed = [r.text for r in greedy_decode(predictor.cnn, predictor.seq, batch, widths, predictor.manifest)]
    split_cer, squeezed_cer = score(texts, pieces)["cer"], score(texts, squeezed)["cer"]
    assert split_cer < 10 and split_cer < squeezed_cer / 3, (split_cer, squeezed_cer, pieces)
