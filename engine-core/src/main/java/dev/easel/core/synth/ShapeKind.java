package dev.easel.core.synth;

import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.util.Locale;

/**
 * The shapes of the synthetic dataset, each drawn axis-aligned inside a square box. The same outline is what
 * {@link ShapeCheck} matches an observed mask against, so generator and check cannot drift apart.
 */
public enum ShapeKind {
    CIRCLE, SQUARE, TRIANGLE, DIAMOND, CROSS, STAR;

    /** The shapes Easel Tiny was trained on; the others are held out for adapters to teach. */
    public static final java.util.List<ShapeKind> BASE = java.util.List.of(CIRCLE, SQUARE, TRIANGLE);

    /** The caption word. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The shape named by a caption word, or null. */
    public static ShapeKind ofWord(String word) {
        for (ShapeKind k : values()) {
            if (k.word().equals(word.toLowerCase(Locale.ROOT))) {
                return k;
            }
        }
        return null;
    }

    /** The outline filling the box {@code (x, y, size, size)}. */
    public Shape outline(double x, double y, double size) {
        double s = size;
        return switch (this) {
            case CIRCLE -> new Ellipse2D.Double(x, y, s, s);
            case SQUARE -> new Rectangle2D.Double(x, y, s, s);
            case TRIANGLE -> polygon(x, y, s, new double[] {0.5, 0, 1, 1, 0, 1});
            case DIAMOND -> polygon(x, y, s, new double[] {0.5, 0, 1, 0.5, 0.5, 1, 0, 0.5});
            case CROSS -> {
                double a = 1 / 3.0;
                double b = 2 / 3.0;
                yield polygon(x, y, s, new double[] {a, 0, b, 0, b, a, 1, a, 1, b, b, b, b, 1, a, 1, a, b, 0, b,
                    0, a, a, a});
            }
            case STAR -> {
                double[] p = new double[20];
                for (int i = 0; i < 10; i++) {
                    double r = i % 2 == 0 ? 0.5 : 0.21;
                    double angle = -Math.PI / 2 + i * Math.PI / 5;
                    p[2 * i] = 0.5 + r * Math.cos(angle);
                    p[2 * i + 1] = 0.55 + r * Math.sin(angle);
                }
                yield polygon(x, y, s, p);
            }
        };
    }

    private static Shape polygon(double x, double y, double s, double[] unit) {
        Path2D.Double p = new Path2D.Double();
        p.moveTo(x + unit[0] * s, y + unit[1] * s);
        for (int i = 2; i < unit.length; i += 2) {
            p.lineTo(x + unit[i] * s, y + unit[i + 1] * s);
        }
        p.closePath();
        return p;
    }
}
