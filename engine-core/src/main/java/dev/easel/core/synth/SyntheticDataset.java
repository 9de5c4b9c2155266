package dev.easel.core.synth;

import dev.easel.core.format.AtomicOutputFile;
import dev.easel.core.sd.sampling.PngWriter;
import dev.easel.core.train.data.Seeds;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A seeded captioned image set of {@link ShapeScene}s: {@code NNNNN.png} with its caption in {@code NNNNN.txt}, the
 * folder layout kohya's scripts and Easel's dataset loader read. Scene {@code i} depends only on (seed, i), so a
 * larger count extends a smaller one.
 *
 * @param shapes   the shapes to draw from
 * @param colors   the colours of shapes and backgrounds (at least two)
 * @param textures the background textures
 */
public record SyntheticDataset(List<ShapeKind> shapes, List<NamedColor> colors, List<Texture> textures) {
    public SyntheticDataset {
        shapes = List.copyOf(shapes);
        colors = List.copyOf(colors);
        textures = List.copyOf(textures);
        if (shapes.isEmpty() || textures.isEmpty()) {
            throw new IllegalArgumentException("a dataset needs at least one shape and one texture");
        }
        if (colors.size() < 2) {
            throw new IllegalArgumentException("a dataset needs at least two colours (shape and background differ)");
        }
    }

    /** Easel Tiny's training set: the base shapes, every colour and texture. */
    public static SyntheticDataset base() {
        return new SyntheticDataset(ShapeKind.BASE, List.of(NamedColor.values()), List.of(Texture.values()));
    }

    /** Scene {@code index} of the set drawn with {@code seed}. */
    public ShapeScene scene(long seed, int index) {
        return ShapeScene.random(new SplittableRandom(Seeds.mix(seed, index, 0x5CE4E)), shapes, colors, textures);
    }

    /** The first {@code count} scenes. */
    public List<ShapeScene> scenes(long seed, int count) {
        List<ShapeScene> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(scene(seed, i));
        }
        return out;
    }

    /**
     * Writes the first {@code count} scenes at {@code side × side} pixels into {@code dir} (created if missing);
     * every file is written atomically.
     *
     * @return the scenes written, in file order
     */
    public List<ShapeScene> write(Path dir, int count, long seed, int side) throws IOException {
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1");
        }
        if (side < 8) {
            throw new IllegalArgumentException("image side must be at least 8 pixels");
        }
        Files.createDirectories(dir);
        List<ShapeScene> scenes = scenes(seed, count);
        int digits = Math.max(5, Integer.toString(count - 1).length());
        for (int i = 0; i < count; i++) {
            String stem = String.format("%0" + digits + "d", i);
            ShapeScene s = scenes.get(i);
            PngWriter.write(s.render(side), Map.of(), dir.resolve(stem + ".png"));
            try (AtomicOutputFile f = AtomicOutputFile.create(dir.resolve(stem + ".txt"))) {
                f.channel().write(ByteBuffer.wrap(s.caption().getBytes(StandardCharsets.UTF_8)));
                f.commit();
            }
        }
        return scenes;
    }
}
