"""Helpers to read what a print shows: the QR codes of an invoice HTML/PDF, decoded back to their links."""

import base64
import io

from lxml import html as lxml_html

from odoo.addons.l10n_pl_ksef.ksef_core import qr


def png_matrix(png_bytes, box_size=4, border=4):
    """The QR module matrix drawn in a PNG made by ``ksef_core.qr.qr_png`` (one sample per module)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png_bytes)).convert("L")
    modules = image.width // box_size
    return [
        [image.getpixel((x * box_size + box_size // 2, y * box_size + box_size // 2)) < 128 for x in range(modules)]
        for y in range(modules)
    ]


def qr_codes_in(page_html, container_id):
    """``[(matrix, label)]`` of the QR images inside ``#container_id`` of an HTML page."""
    tree = lxml_html.fromstring(page_html)
    found = []
    for cell in tree.xpath("//*[@id=%r]//img/.." % container_id):
        image = cell.xpath(".//img")[0]
        src = image.get("src")
        assert src.startswith("data:image/png;base64,"), src[:40]
        label = " ".join(cell.xpath(".//*[@name='l10n_pl_ksef_qr_label']//text()") or cell.xpath("./div[1]//text()"))
        found.append((png_matrix(base64.b64decode(src.split(",", 1)[1])), label.strip()))
    return found


def reports_without_server(env):
    """wkhtmltopdf fetches the report's styles from Odoo's HTTP server, which waits for this very test's
    transaction: point it at a closed port instead (it then renders without styles, at once)."""
    env["ir.config_parameter"].sudo().set_param("report.url", "http://127.0.0.1:9")


def matrix_of(url):
    return qr.qr_matrix(url, border=4)
