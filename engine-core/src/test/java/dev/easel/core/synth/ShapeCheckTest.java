package dev.easel.core.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShapeCheckTest {
    private static final SyntheticDataset ALL = new SyntheticDataset(List.of(ShapeKind.values()),
            List.of(NamedColor.values()), List.of(Texture.values()));

    @Test
    void recognisesEveryGeneratedSceneAt64Pixels() {
        ShapeCheck.Tally tally = new ShapeCheck.Tally();
        for (ShapeScene s : ALL.scenes(11, 400)) {
            ShapeCheck.Verdict v = ShapeCheck.check(s.render(64), ShapePrompt.parse(s.caption()).orElseThrow());
            tally.add(v);
            assertTrue(v.colorRight() && v.backgroundRight(), s.caption() + ": saw " + v.seen());
        }
        // the smallest stars and crosses lose their arms to antialiasing at 64 px; nearly all must still pass
        assertTrue(tally.shapeRate() >= 0.97, tally.toString());
    }

    @Test
    void recognisesBlurredDownscaledScenes() {
        // what a small model's samples look like: soft edges. 64 px drawn at 16 px and scaled back up
        ShapeCheck.Tally tally = new ShapeCheck.Tally();
        for (ShapeScene s : SyntheticDataset.base().scenes(12, 200)) {
            BufferedImage small = s.render(16);
            BufferedImage big = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = big.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(small, 0, 0, 64, 64, null);
            g.dispose();
            tally.add(ShapeCheck.check(big, ShapePrompt.parse(s.caption()).orElseThrow()));
        }
        assertTrue(tally.adherenceRate() >= 0.9, tally.toString());
    }

    @Test
    void rejectsWrongShapeColourAndBackground() {
        ShapeScene s = new ShapeScene(ShapeKind.CIRCLE, NamedColor.RED, NamedColor.BLUE, Texture.STRIPED, 0.2, 0.2,
                0.6);
        BufferedImage img = s.render(64);
        ShapeCheck.Verdict square = ShapeCheck.check(img, ShapePrompt.parse("a red square on a blue background")
                .orElseThrow());
        assertTrue(square.colorRight());
        assertFalse(square.shapeRight());
        ShapeCheck.Verdict green = ShapeCheck.check(img, ShapePrompt.parse("a green circle on a yellow background")
                .orElseThrow());
        assertFalse(green.colorRight());
        assertFalse(green.backgroundRight());
        assertTrue(green.shapeRight());
        assertFalse(green.adheres());
    }

    @Test
    void plainBackgroundShowsNothing() {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(NamedColor.GREEN.color());
        g.fillRect(0, 0, 64, 64);
        g.dispose();
        ShapeCheck.Observation o = ShapeCheck.observe(img);
        assertEquals(NamedColor.GREEN, o.background());
        assertNull(o.color());
        assertNull(o.shape());
    }

    @Test
    void textureShadesKeepTheirColourName() {
        for (NamedColor c : NamedColor.values()) {
            assertEquals(c, NamedColor.nearest(c.textureColor().getRGB() & 0xffffff), c.word());
            assertEquals(c, NamedColor.nearest(c.color().getRGB() & 0xffffff), c.word());
        }
    }

    @Test
    void parsesPromptsWithExtraWords() {
        ShapePrompt p = ShapePrompt.parse("easeltok, an orange star on a white background, dotted").orElseThrow();
        assertEquals(NamedColor.ORANGE, p.color());
        assertEquals(ShapeKind.STAR, p.shape());
        assertEquals(NamedColor.WHITE, p.background());
        assertEquals(Texture.DOTTED, p.texture());
        ShapePrompt unknown = ShapePrompt.parse("a red <zorb> on a blue background").orElse(null);
        assertTrue(unknown == null || unknown.shape() == null);
        ShapePrompt word = ShapePrompt.parse("a red zorb on a blue background").orElseThrow();
        assertNull(word.shape());
    }

    @Test
    void scenesDependOnlyOnSeedAndIndex() {
        SyntheticDataset d = SyntheticDataset.base();
        assertEquals(d.scenes(5, 10), d.scenes(5, 30).subList(0, 10));
        assertFalse(d.scenes(5, 10).equals(d.scenes(6, 10)));
        assertEquals("a red circle on a blue background, striped", new ShapeScene(ShapeKind.CIRCLE, NamedColor.RED,
                NamedColor.BLUE, Texture.STRIPED, 0.1, 0.1, 0.5).caption());
        assertEquals("an orange square on a black background", new ShapeScene(ShapeKind.SQUARE, NamedColor.ORANGE,
                NamedColor.BLACK, Texture.PLAIN, 0.1, 0.1, 0.5).caption());
    }
}
