"""``python -m skae demo`` runs end to end and writes its figure."""

from skae.__main__ import main


def test_demo_prints_table_and_writes_png(tmp_path, capsys):
    output = tmp_path / "demo.png"
    assert main(["demo", "--output", str(output)]) == 0
    out = capsys.readouterr().out
    assert "PCA" in out and "AutoEncoderTransformer" in out and "held-out MSE" in out
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    height, width = matplotlib.image.imread(output).shape[:2]
    assert width > 800 and height > 600
