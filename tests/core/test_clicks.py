"""The click simulator, click maps and crops, on synthetic masks with known answers."""

from __future__ import annotations

import cv2
import numpy as np

from carseg_gui.core.clicks import Click, click_maps, crop_box, crop_side, interior_point, next_click


def _car() -> np.ndarray:
    truth = np.zeros((200, 300), np.uint8)
    truth[50:150, 40:260] = 1
    return truth


def test_positive_click_at_the_centre_of_the_largest_missed_part():
    truth = _car()
    mask = truth.copy()
    mask[60:100, 100:180] = 0  # a missed window-sized block: 40 x 80 = 3200 px, centre (79.5, 139.5)
    mask[120:130, 200:210] = 0  # a smaller missed part
    mask[10:20, 10:20] = 1  # a small false part
    click = next_click(truth, mask)
    assert click is not None and click.positive
    assert 60 <= click.y < 100 and 100 <= click.x < 180
    # the most interior pixel: 20 px from the long sides, i.e. the middle row of the block
    assert click.y in (79, 80)
    assert mask[click.y, click.x] == 0 and truth[click.y, click.x] == 1


def test_negative_click_when_the_largest_error_is_a_false_part():
    truth = _car()
    mask = truth.copy()
    cv2.circle(mask, (150, 175), 20, 1, -1)  # a shadow under the car, mostly outside the truth
    mask[52:56, 50:60] = 0  # a small missed part
    click = next_click(truth, mask)
    assert click is not None and not click.positive
    assert truth[click.y, click.x] == 0 and mask[click.y, click.x] == 1
    # the false part is the disc below row 150: its most interior pixel is on the disc's vertical axis
    assert abs(click.x - 150) <= 1 and 155 <= click.y <= 195


def test_the_image_border_counts_as_boundary():
    region = np.zeros((50, 50), bool)
    region[10:40, :10] = True  # a strip along the left border
    y, x, depth = interior_point(region)
    # without padding the deepest point would be at x=9 (the border not a boundary); with it, the middle
    assert x in (4, 5) and 14 <= y <= 35 and region[y, x]
    assert 4.5 <= depth <= 5.5


def test_no_click_when_the_mask_is_right():
    truth = _car()
    assert next_click(truth, truth.copy()) is None


def test_by_depth_prefers_a_thick_region_over_a_long_thin_one():
    truth = _car()
    mask = truth.copy()
    mask[50:53, 40:260] = 0  # a 3-px sliver along the roof: 660 px
    mask[100:120, 100:120] = 0  # a 20x20 hole: 400 px, but deep
    by_area, by_depth = next_click(truth, mask, "area"), next_click(truth, mask, "depth")
    assert by_area is not None and by_area.y in range(50, 53)
    assert by_depth is not None and 100 <= by_depth.y < 120 and 100 <= by_depth.x < 120


def test_crop_box_is_centred_and_stays_inside_the_image():
    assert crop_box((1280, 1918), Click(640, 959, True), 256) == (512, 768, 831, 1087)
    assert crop_box((1280, 1918), Click(5, 1915, True), 256) == (0, 256, 1662, 1918)
    assert crop_box((100, 150), Click(50, 75, True), 256) == (0, 100, 0, 150)


def test_crop_grows_with_the_distance_to_the_mask():
    mask = np.zeros((1280, 1918), np.uint8)
    mask[200:1000, 300:1600] = 1
    near = Click(190, 900, True)  # 10 px above the car: a thin sliver at most
    far = Click(50, 900, True)  # 150 px above the car
    assert crop_side(mask, near) == 256
    assert crop_side(mask, far) == 608  # 4 x 150 rounded up to 32
    assert crop_side(mask, Click(600, 900, True)) == 256  # already car under it
    assert crop_side(np.zeros((1280, 1918), np.uint8), Click(600, 900, True)) == 1024


def test_click_maps_put_discs_at_the_clicks_in_crop_coordinates():
    box = (100, 356, 200, 456)
    clicks = [Click(228, 328, True), Click(300, 400, False), Click(10, 10, True)]  # the last is outside
    maps = click_maps(clicks, box, 256)
    assert maps.shape == (256, 256, 2) and maps.dtype == np.float32
    assert maps[128, 128, 0] == 1 and maps[200, 200, 1] == 1
    assert maps[..., 0].sum() == maps[..., 1].sum()  # one disc each, same size
    assert maps[..., 0].sum() < 100
    half = click_maps(clicks, (100, 612, 200, 712), 256)  # a 512 crop seen at 256: the disc moves
    assert half[64, 64, 0] == 1
