package dev.easel.core.synth;

import java.awt.Color;
import java.util.Locale;

/**
 * The palette of the synthetic dataset: well-separated colours, so that the nearest palette entry of a pixel names
 * its colour even in a blurry sample.
 */
public enum NamedColor {
    RED(215, 40, 40), ORANGE(240, 140, 30), YELLOW(235, 215, 40), GREEN(45, 165, 60), BLUE(40, 80, 210),
    PURPLE(135, 55, 185), WHITE(240, 240, 240), BLACK(25, 25, 25);

    private final int r;
    private final int g;
    private final int b;

    NamedColor(int r, int g, int b) {
        this.r = r;
        this.g = g;
        this.b = b;
    }

    public Color color() {
        return new Color(r, g, b);
    }

    /** The colour mixed toward black by {@code amount} (0..1): the texture shade, which keeps the hue. */
    public Color shade(double amount) {
        double k = 1 - amount;
        return new Color((int) Math.round(r * k), (int) Math.round(g * k), (int) Math.round(b * k));
    }

    /** The colour mixed toward white by {@code amount}: the texture shade of dark colours. */
    public Color tint(double amount) {
        return new Color((int) Math.round(r + (255 - r) * amount), (int) Math.round(g + (255 - g) * amount),
                (int) Math.round(b + (255 - b) * amount));
    }

    /** A visible texture colour that keeps the colour's name: darker, or lighter for black. */
    public Color textureColor() {
        return switch (this) {
            case BLACK -> tint(0.18);
            // darker yellow turns orange
            case YELLOW -> shade(0.12);
            default -> shade(0.22);
        };
    }

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The colour named by a caption word, or null. */
    public static NamedColor ofWord(String word) {
        for (NamedColor c : values()) {
            if (c.word().equals(word.toLowerCase(Locale.ROOT))) {
                return c;
            }
        }
        return null;
    }

    /** The palette entry nearest to an sRGB pixel (squared distance in a perceptually weighted RGB). */
    public static NamedColor nearest(int rgb) {
        int pr = (rgb >> 16) & 0xff;
        int pg = (rgb >> 8) & 0xff;
        int pb = rgb & 0xff;
        NamedColor best = null;
        double bestD = Double.MAX_VALUE;
        for (NamedColor c : values()) {
            double rMean = (pr + c.r) / 2.0;
            double dr = pr - c.r;
            double dg = pg - c.g;
            double db = pb - c.b;
            // "redmean" weighting: cheap and much closer to perceived difference than plain RGB distance
            double d = (2 + rMean / 256) * dr * dr + 4 * dg * dg + (2 + (255 - rMean) / 256) * db * db;
            if (d < bestD) {
                bestD = d;
                best = c;
            }
        }
        return best;
    }
}
