package dev.easel.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.easel.core.train.config.ConfigException;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.data.Batch;
import dev.easel.core.train.data.Bucket;
import dev.easel.core.train.data.Buckets;
import dev.easel.core.train.data.CaptionOptions;
import dev.easel.core.train.data.Captions;
import dev.easel.core.train.data.DatasetConfigs;
import dev.easel.core.train.data.DatasetSpec;
import dev.easel.core.train.data.ImageFiles;
import dev.easel.core.train.data.LatentCache;
import dev.easel.core.train.data.Subset;
import dev.easel.core.train.data.TrainingData;
import dev.easel.core.train.model.SamplePrompt;
import dev.easel.core.train.model.SamplePromptFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetTest {
    @TempDir
    Path tmp;

    private JobConfig job(Map<String, String> extra) {
        Map<String, String> p = new java.util.LinkedHashMap<>();
        p.put("pretrained_model_name_or_path", "toy:1");
        p.put("train_data_dir", tmp.toString());
        p.putAll(extra);
        return TrainFixtures.loader(TrainFixtures.registry()).load(null, "toy/test", p);
    }

    @Test
    void kohyaBucketResolutionsAndSelection() {
        List<int[]> resos = Buckets.resolutions(512, 512, 256, 1024, 64);
        List<String> text = resos.stream().map(r -> r[0] + "x" + r[1]).toList();
        for (String expected : List.of("256x1024", "320x768", "384x640", "448x576", "512x512", "576x448", "640x384",
                "704x320", "768x320", "832x256", "1024x256")) {
            assertTrue(text.contains(expected), expected + " in " + text);
        }
        assertEquals(text.stream().sorted((a, b) -> 0).toList(), text);
        Buckets buckets = Buckets.bucketed(512, 512, 256, 1024, 64, false);
        assertEquals(new Bucket(704, 320, 704, 352), buckets.select(1000, 500));
        assertEquals(new Bucket(512, 512, 512, 512), buckets.select(300, 300), "upscaled to cover");
        Bucket noUp = Buckets.bucketed(512, 512, 256, 1024, 64, true).select(300, 200);
        assertEquals(new Bucket(256, 192, 300, 200), noUp);
        Bucket single = Buckets.single(64, 64).select(100, 50);
        assertEquals(new Bucket(64, 64, 128, 64), single);
        assertEquals(32, single.cropLeft());
    }

    @Test
    void captionShuffleKeepTokensAndDropout() {
        CaptionOptions shuffle = new CaptionOptions(true, 1, "", 0, 0, 0, "", "");
        String c = "sks, red, blue, green, yellow";
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String out = Captions.process(c, shuffle, 0, new Random(i));
            assertTrue(out.startsWith("sks, "), out);
            seen.add(out);
        }
        assertTrue(seen.stream().distinct().count() > 3, "tags are shuffled");
        assertEquals(Captions.process(c, shuffle, 0, new Random(3)), Captions.process(c, shuffle, 0, new Random(3)));
        CaptionOptions sep = new CaptionOptions(true, 0, "|||", 0, 0, 1.0, "", "");
        assertEquals("sks, man", Captions.process("sks, man ||| red, blue", sep, 0, new Random(1)));
        assertEquals("", Captions.process(c, new CaptionOptions(false, 0, "", 1.0, 0, 0, "", ""), 0, new Random(1)));
        CaptionOptions everySecond = new CaptionOptions(false, 0, "", 0, 2, 0, "pre", "post");
        assertEquals("pre " + c + " post", Captions.process(c, everySecond, 0, new Random(1)));
        assertEquals("", Captions.process(c, everySecond, 1, new Random(1)), "epoch 2 of every 2nd drops");
    }

    @Test
    void folderNamingAndDatasetToml() throws IOException {
        TrainFixtures.images(tmp.resolve("train/5_sks dog"), 2, 16, 16, "png", 1);
        TrainFixtures.images(tmp.resolve("train/1_style"), 1, 16, 16, "png", 2);
        Files.createDirectories(tmp.resolve("train/notes"));
        List<String> warnings = new ArrayList<>();
        List<DatasetSpec> specs = DatasetConfigs.of(job(Map.of("train_data_dir", tmp.resolve("train").toString(),
                "shuffle_caption", "true")), warnings::add);
        List<Subset> subsets = specs.get(0).subsets();
        assertEquals(2, subsets.size());
        assertEquals(1, subsets.get(0).numRepeats());
        assertEquals("style", subsets.get(0).classTokens());
        assertEquals(5, subsets.get(1).numRepeats());
        assertEquals("sks dog", subsets.get(1).classTokens());
        assertTrue(subsets.get(1).captions().shuffle(), "job keys are the defaults");
        assertTrue(warnings.stream().anyMatch(w -> w.contains("notes: folder ignored")), warnings.toString());

        Path toml = tmp.resolve("dataset.toml");
        Files.writeString(toml, """
                [general]
                shuffle_caption = true
                caption_extension = ".txt"
                keep_tokens = 1

                [[datasets]]
                resolution = [48, 32]
                batch_size = 3
                enable_bucket = true
                min_bucket_reso = 16
                max_bucket_reso = 64
                bucket_reso_steps = 8

                  [[datasets.subsets]]
                  image_dir = "%s"
                  num_repeats = 4
                  class_tokens = "sks dog"
                  keep_tokens = 2

                  [[datasets.subsets]]
                  image_dir = "%s"
                  is_reg = true
                  flip_aug = true
                """.formatted(tmp.resolve("train/5_sks dog"), tmp.resolve("train/1_style")));
        List<DatasetSpec> fromToml = DatasetConfigs.of(job(Map.of("dataset_config", toml.toString())), w -> { });
        DatasetSpec d = fromToml.get(0);
        assertEquals(48, d.width());
        assertEquals(32, d.height());
        assertEquals(3, d.batchSize());
        assertTrue(d.enableBucket());
        assertEquals(2, d.subsets().get(0).captions().keepTokens(), "a subset overrides [general]");
        assertEquals(1, d.subsets().get(1).captions().keepTokens());
        assertTrue(d.subsets().get(1).isReg());
        assertTrue(d.subsets().get(1).flipAug());

        Files.writeString(toml, "[[datasets]]\n[[datasets.subsets]]\nimage_dir = \"%s\"\nnum_repepts = 2\n"
                .formatted(tmp));
        ConfigException e = assertThrows(ConfigException.class, () -> DatasetConfigs.of(
                job(Map.of("dataset_config", toml.toString())), w -> { }));
        assertEquals(toml + ": unknown key 'num_repepts' in [[datasets.subsets]] (did you mean 'num_repeats'?)",
                e.getMessage());
    }

    @Test
    void epochsRepeatShuffleAndNeverMixBuckets() throws IOException {
        TrainFixtures.images(tmp.resolve("e/3_wide"), 2, 32, 16, "png", 1);
        TrainFixtures.images(tmp.resolve("e/2_tall"), 3, 16, 32, "png", 2);
        JobConfig job = job(Map.of("train_data_dir", tmp.resolve("e").toString(), "resolution", "24",
                "enable_bucket", "true", "min_bucket_reso", "8", "max_bucket_reso", "64", "bucket_reso_steps", "8",
                "train_batch_size", "2", "latent_cache_dir", tmp.resolve("cache").toString()));
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            ToyDiffusionModel model = new ToyDiffusionModel(m, 1);
            LatentCache cache = new LatentCache(tmp.resolve("cache"), model.vaeIdentity());
            TrainingData data = TrainingData.prepare(DatasetConfigs.of(job, w -> { }), model, cache, false, 4, m,
                    w -> { }, (a, b) -> { });
            assertEquals(5, cache.stores());
            List<Batch> e0 = data.epoch(1, 0);
            int images = e0.stream().mapToInt(b -> b.entries().size()).sum();
            assertEquals(2 * 3 + 3 * 2, images, "repeats");
            for (Batch b : e0) {
                assertEquals(1, b.entries().stream().map(i -> data.entries().get(i).bucket()).distinct().count());
            }
            assertEquals(e0, data.epoch(1, 0), "same seed and epoch, same order");
            assertNotEquals(e0, data.epoch(1, 1), "each epoch reshuffles");

            int encodes = model.encodeCalls;
            TrainingData again = TrainingData.prepare(DatasetConfigs.of(job, w -> { }), model,
                    new LatentCache(tmp.resolve("cache"), model.vaeIdentity()), false, 4, m, w -> { }, (a, b) -> { });
            assertEquals(encodes, model.encodeCalls, "the second preparation encodes nothing");
            assertArrayEquals(data.load(e0.get(0), 1, 0, 0, m).latents().toFloatArray(),
                    again.load(e0.get(0), 1, 0, 0, m).latents().toFloatArray());
            LatentCache otherVae = new LatentCache(tmp.resolve("cache"), "another-vae");
            assertTrue(cache.has(data.entries().get(0), false));
            assertTrue(!otherVae.has(data.entries().get(0), false), "the VAE is part of the key");
        }
    }

    @Test
    void regularisationImagesAreCycledToTheTrainingCount() throws IOException {
        TrainFixtures.images(tmp.resolve("r/train/3_sks"), 2, 16, 16, "png", 1);
        TrainFixtures.images(tmp.resolve("r/reg/1_dog"), 1, 16, 16, "png", 2);
        JobConfig job = job(Map.of("train_data_dir", tmp.resolve("r/train").toString(), "reg_data_dir",
                tmp.resolve("r/reg").toString(), "resolution", "16"));
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            ToyDiffusionModel model = new ToyDiffusionModel(m, 1);
            LatentCache cache = new LatentCache(tmp.resolve("rc"), model.vaeIdentity());
            TrainingData with = TrainingData.prepare(DatasetConfigs.of(job, w -> { }), model, cache, true, 4, m,
                    w -> { }, (a, b) -> { });
            List<Integer> all = with.epoch(1, 0).stream().flatMap(b -> b.entries().stream()).toList();
            assertEquals(12, all.size(), "6 training uses + 6 regularisation uses");
            assertEquals(6, all.stream().filter(i -> with.entries().get(i).subset().isReg()).count());
            List<String> warnings = new ArrayList<>();
            TrainingData without = TrainingData.prepare(DatasetConfigs.of(job, w -> { }), model, cache, false, 4, m,
                    warnings::add, (a, b) -> { });
            assertEquals(6, without.epoch(1, 0).stream().mapToInt(b -> b.entries().size()).sum());
            assertTrue(warnings.get(0).contains("regularisation images skipped"), warnings.toString());
        }
    }

    @Test
    void imagesOfEveryFormatDecode() throws IOException {
        BufferedImage webp = ImageFiles.readRgb(copy("red-32x24.webp"));
        assertEquals(32, webp.getWidth());
        assertEquals(24, webp.getHeight());
        assertEquals(0x10a040, webp.getRGB(3, 3) & 0xFFFFFF);
        assertEquals(0xd02010, webp.getRGB(30, 20) & 0xFFFFFF);
        int lossy = ImageFiles.readRgb(copy("red-32x24-lossy.webp")).getRGB(30, 20);
        assertTrue(Math.abs(((lossy >> 16) & 0xFF) - 0xd0) < 12, Integer.toHexString(lossy));
        assertArrayEquals(new int[] {32, 24}, ImageFiles.size(tmp.resolve("red-32x24.webp")));

        BufferedImage argb = new BufferedImage(4, 4, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(1, 1, 0x00336699);
        ImageIO.write(argb, "png", tmp.resolve("alpha.png").toFile());
        assertEquals(0x336699, ImageFiles.readRgb(tmp.resolve("alpha.png")).getRGB(1, 1) & 0xFFFFFF,
                "alpha dropped, colour kept (as PIL's convert('RGB'))");
        TrainFixtures.images(tmp.resolve("jpg"), 1, 24, 16, "jpg", 1);
        assertArrayEquals(new int[] {24, 16}, ImageFiles.size(tmp.resolve("jpg/img0.jpg")));

        Files.writeString(tmp.resolve("broken.png"), "not a png");
        IOException e = assertThrows(IOException.class, () -> ImageFiles.readRgb(tmp.resolve("broken.png")));
        assertTrue(e.getMessage().startsWith(tmp.resolve("broken.png").toString()), e.getMessage());
    }

    private Path copy(String name) throws IOException {
        Path p = tmp.resolve(name);
        Files.copy(getClass().getResourceAsStream("/train/" + name), p);
        return p;
    }

    @Test
    void kohyaSamplePromptLines() {
        SamplePrompt p = SamplePromptFile.parse("a cat, best --n blurry, low --w 640 --h 768 --d 7 --l 6.5 --s 20"
                + " --ss euler_a", "ddim");
        assertEquals(new SamplePrompt("a cat, best", "blurry, low", 640, 768, 7, 6.5, 20, "euler_a"), p);
        assertEquals(new SamplePrompt("plain", "", 512, 512, -1, 7.5, 30, "ddim"), SamplePromptFile.parse("plain",
                "ddim"));
        assertThrows(IllegalArgumentException.class, () -> SamplePromptFile.parse("x --q 1", "ddim"));
    }
}
