package dev.easel.core.synth;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * One picture of the synthetic dataset: a shape of one colour on a background of another, plain, striped or dotted.
 * Geometry is in fractions of the image side, so one scene renders at any resolution.
 *
 * @param x    left edge of the shape's box, in [0, 1 - size]
 * @param y    top edge of the shape's box
 * @param size side of the shape's box
 */
public record ShapeScene(ShapeKind shape, NamedColor color, NamedColor background, Texture texture, double x,
                         double y, double size) {
    /** Box sides the generator draws, as fractions of the image side. */
    public static final double MIN_SIZE = 0.42;
    public static final double MAX_SIZE = 0.66;
    /** Gap the generator keeps between the shape and the image border (the check reads the background there). */
    public static final double MARGIN = 0.08;

    public ShapeScene {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(color, "color");
        Objects.requireNonNull(background, "background");
        Objects.requireNonNull(texture, "texture");
        if (color == background) {
            throw new IllegalArgumentException("shape and background are both " + color.word());
        }
    }

    /** A random scene: shape, colours and texture from the given choices, geometry uniform within the margins. */
    public static ShapeScene random(SplittableRandom random, java.util.List<ShapeKind> shapes,
                                    java.util.List<NamedColor> colors, java.util.List<Texture> textures) {
        ShapeKind shape = shapes.get(random.nextInt(shapes.size()));
        NamedColor fg = colors.get(random.nextInt(colors.size()));
        NamedColor bg;
        do {
            bg = colors.get(random.nextInt(colors.size()));
        } while (bg == fg);
        Texture texture = textures.get(random.nextInt(textures.size()));
        double size = MIN_SIZE + random.nextDouble() * (MAX_SIZE - MIN_SIZE);
        double room = 1 - 2 * MARGIN - size;
        double x = MARGIN + random.nextDouble() * room;
        double y = MARGIN + random.nextDouble() * room;
        return new ShapeScene(shape, fg, bg, texture, x, y, size);
    }

    /** "a red circle on a blue background", with ", striped" or ", dotted" for textured backgrounds. */
    public String caption() {
        String article = color.word().matches("^[aeiou].*") ? "an " : "a ";
        String text = article + color.word() + " " + shape.word() + " on a " + background.word() + " background";
        return texture == Texture.PLAIN ? text : text + ", " + texture.word();
    }

    /** Renders the scene, antialiased, at {@code side × side} pixels. */
    public BufferedImage render(int side) {
        BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setColor(background.color());
            g.fillRect(0, 0, side, side);
            double period = side / 6.0;
            g.setColor(background.textureColor());
            if (texture == Texture.STRIPED) {
                for (double top = period / 4; top < side; top += period) {
                    g.fill(new Rectangle2D.Double(0, top, side, period / 2));
                }
            } else if (texture == Texture.DOTTED) {
                double r = side / 22.0;
                for (double cy = period / 2; cy < side; cy += period) {
                    for (double cx = period / 2; cx < side; cx += period) {
                        g.fill(new Ellipse2D.Double(cx - r, cy - r, 2 * r, 2 * r));
                    }
                }
            }
            g.setColor(color.color());
            g.fill(shape.outline(x * side, y * side, size * side));
        } finally {
            g.dispose();
        }
        return img;
    }
}
