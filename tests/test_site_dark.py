"""Dark mode: every page in the theme's dark mode, next to its light screenshot, and every figure legible.

Each page is screenshotted in dark mode as ``_build/screenshots/<page>--dark.png`` (the light one is
``<page>.png``, from ``tests/test_site.py``; written here too when missing). Then every figure, as the
reader sees it in dark mode, is read back as pixels:

* a static figure (any image in the article, e.g. a chapter's figure) must sit on a
  light background: its most common colour (its background) is light, so its dark text and lines stay
  readable; a transparent figure would show the dark page behind its dark text and fail;
* an explorer drawn in the browser (``.optlib-explorer-live``) either keeps a light background or,
  following the theme, draws on a dark one with light text and axes.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from tests.browser import PAGES, open_page, set_theme
from tests.test_site import BROKEN_IMAGES, SCREENSHOTS

LIGHT = 0.5  # relative luminance above which a background counts as light
MIN_FIGURE_PX = 40  # icons and the logo are smaller than any figure


def luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB colours in 0..255 (last axis: R, G, B)."""
    c = rgb[..., :3].astype(float) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def background_and_ink(png: bytes) -> tuple[float, float]:
    """Luminance of the most common colour (the background) and the share of light pixels (L > 0.6)."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    quantized = (pixels // 16).astype(np.int32)
    keys = quantized[:, 0] * 256 + quantized[:, 1] * 16 + quantized[:, 2]
    mode = np.bincount(keys).argmax()
    background = pixels[keys == mode].mean(axis=0)
    return float(luminance(background)), float((luminance(pixels) > 0.6).mean())


def test_the_luminance_reading_tells_light_from_dark():
    """The measurement itself: a white figure with black text, a transparent one on a dark page."""
    white = Image.new("RGB", (100, 60), "white")
    white.paste((0, 0, 0), (10, 10, 60, 20))
    dark = Image.new("RGB", (100, 60), (18, 18, 18))  # what a transparent PNG shows on the dark page
    dark.paste((30, 30, 30), (10, 10, 60, 20))  # its dark text
    themed = Image.new("RGB", (100, 60), (18, 18, 18))
    themed.paste((230, 230, 230), (10, 10, 60, 20))  # a figure drawn for the dark theme
    readings = {}
    for name, image in {"white": white, "dark": dark, "themed": themed}.items():
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        readings[name] = background_and_ink(buffer.getvalue())
    assert readings["white"][0] > 0.99 and readings["dark"][0] < 0.01
    assert readings["dark"][1] == 0.0 and readings["themed"][1] == pytest.approx(500 / 6000)


@pytest.fixture(scope="session")
def dark_report(request):
    report = {"pages": [], "figures": 0, "live_explorers": 0}
    yield report
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "dark.json").write_text(json.dumps(report, indent=2) + "\n")
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.write_line(f"\ndark mode: {len(report['pages'])} pages screenshotted, {report['figures']} figures "
                            f"and {report['live_explorers']} live explorers read back")


def shot_name(name: str, suffix: str = "") -> str:
    return f"{name.replace('/', '__')}{suffix}.png"


@pytest.mark.parametrize("name", PAGES)
def test_every_figure_is_legible_in_dark_mode(name, browser_context, site_url, dark_report):
    opened = open_page(browser_context, site_url, f"{name}.html")
    page = opened.page
    problems, checked, live_count = [], 0, 0
    try:
        images = page.evaluate(BROKEN_IMAGES)  # load the lazy images now
        problems += [f"image did not load: {src}" for src in images["broken"]]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        if not (SCREENSHOTS / shot_name(name)).exists():
            page.screenshot(path=str(SCREENSHOTS / shot_name(name)), full_page=True)
        set_theme(page, "dark")
        page.screenshot(path=str(SCREENSHOTS / shot_name(name, "--dark")), full_page=True)
        figures = page.locator(".bd-article img:visible")
        for index in range(figures.count()):
            figure = figures.nth(index)
            box = figure.bounding_box()
            if box is None or min(box["width"], box["height"]) < MIN_FIGURE_PX:
                continue
            background, _ = background_and_ink(figure.screenshot())
            checked += 1
            if background < LIGHT:
                problems.append(f"figure {index + 1} ({(figure.get_attribute('alt') or '')[:60]!r}) shows a dark "
                                f"background in dark mode (luminance {background:.2f}): its dark text is unreadable")
        live = page.locator(".optlib-explorer-live:visible")
        live_count = live.count()
        for index in range(live_count):
            background, light_ink = background_and_ink(live.nth(index).screenshot())
            if background < LIGHT and light_ink < 0.005:
                problems.append(f"live explorer {index + 1}: dark background (luminance {background:.2f}) with "
                                f"almost no light text or lines ({light_ink:.2%} of its pixels)")
        set_theme(page, "light")
    finally:
        page.close()
    dark_report["pages"].append(name)
    dark_report["figures"] += checked
    dark_report["live_explorers"] += live_count
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
