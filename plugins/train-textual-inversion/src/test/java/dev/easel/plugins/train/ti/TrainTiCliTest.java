package dev.easel.plugins.train.ti;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.cli.EaselCli;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code easel train} with a config of kohya's train_textual_inversion.py, then {@code easel sample --embedding}. */
class TrainTiCliTest {
    @TempDir
    Path dir;
    String stdout;
    String stderr;

    int easel(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = EaselCli.run(new PrintWriter(out), new PrintWriter(err), args);
        stdout = out.toString();
        stderr = err.toString();
        return rc;
    }

    private String kohyaToml(Path model, Path data, Path out, String extra) {
        return """
                pretrained_model_name_or_path = "%s"
                train_data_dir = "%s"
                output_dir = "%s"
                latent_cache_dir = "%s"
                resolution = 32
                caption_extension = ".txt"
                token_string = "zxq"
                init_word = "red"
                num_vectors_per_token = 2
                use_object_template = true
                max_train_steps = 3
                learning_rate = 0.005
                train_batch_size = 2
                seed = 11
                save_state = false
                %s
                """.formatted(model, data, out, dir.resolve("cache"), extra);
    }

    private static int[] pixels(Path png) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void aKohyaConfigTrainsAndEveryOutputSamplesTheSame() throws IOException {
        Path model = TiJobs.tinyModel(dir);
        Path data = TiJobs.images(dir.resolve("img"), 4, "thing");
        Path out = dir.resolve("out");
        Path config = dir.resolve("ti.toml");
        Files.writeString(config, kohyaToml(model, data, out, ""));
        assertEquals(0, easel("train", config.toString(), "-q"), stderr);
        assertEquals(3, Files.readString(out.resolve("zxq.log.jsonl")).lines().count());

        List<int[]> images = new ArrayList<>();
        for (String file : List.of("zxq.pt", "zxq.safetensors", "zxq.learned_embeds.safetensors")) {
            Path png = dir.resolve(file + ".png");
            assertEquals(0, easel("sample", "-q", "--model", model.toString(), "--embedding",
                    out.resolve(file).toString(), "--prompt", "a photo of zxq", "--steps", "3", "--sampler", "ddim",
                    "--width", "16", "--height", "16", "--out", png.toString()), stderr);
            assertEquals("", stderr, "the prompt uses the word of " + file);
            images.add(pixels(png));
        }
        assertArrayEquals(images.get(0), images.get(1));
        assertArrayEquals(images.get(0), images.get(2));
        Path without = dir.resolve("without.png");
        assertEquals(0, easel("sample", "-q", "--model", model.toString(), "--prompt", "a photo of zxq", "--steps",
                "3", "--sampler", "ddim", "--width", "16", "--height", "16", "--out", without.toString()), stderr);
        assertFalse(java.util.Arrays.equals(images.get(0), pixels(without)));
    }

    @Test
    void configMistakesFailBeforeAnyWorkWithOneLine() throws IOException {
        Path model = TiJobs.tinyModel(dir);
        Path data = TiJobs.images(dir.resolve("img"), 2, "zxq");
        Path out = dir.resolve("out");
        assertFails(kohyaToml(model, data, out, "").replace("token_string = \"zxq\"", "token_string = \"cat\""),
                "token_string 'cat': 'cat' is already a token of the vocabulary");
        assertFails(kohyaToml(model, data, out, "use_style_template = true"),
                "use_object_template and use_style_template are both set");
        assertFails(kohyaToml(model, data, out, "template_file = \"nope.txt\""),
                "use_object_template and template_file are both set");
        assertFails(kohyaToml(model, data, out, "weights = \"" + dir.resolve("old.pt") + "\""), "old.pt");
        assertFails(kohyaToml(model, data, out, "save_model_as = \"onnx\""), "'save_model_as' must be one of");
        assertFails(kohyaToml(model, data, out, "num_vectors_per_token = 0").replace("num_vectors_per_token = 2\n",
                ""), "num_vectors_per_token");
        assertFails(kohyaToml(model, data, out, "").replace("token_string = \"zxq\"\n", "method ="
                + " \"textual-inversion\"\n"), "parameter 'token_string' is required");
        assertFails(kohyaToml(model, data, out, "").replace("use_object_template = true", "template_file = \""
                + dir.resolve("missing.txt") + "\""), "template_file '" + dir.resolve("missing.txt")
                + "' is neither a file nor one of the built-in templates");
        Files.writeString(dir.resolve("noname.txt"), "a photo of [filewords]\n");
        assertFails(kohyaToml(model, data, out, "").replace("use_object_template = true", "template_file = \""
                + dir.resolve("noname.txt") + "\""), "no line contains [name]");
        assertFalse(Files.exists(out.resolve("zxq.pt")));
    }

    private void assertFails(String toml, String message) throws IOException {
        Path config = dir.resolve("bad.toml");
        Files.writeString(config, toml);
        assertEquals(1, easel("train", config.toString(), "-q"), stdout + stderr);
        assertTrue(stderr.contains(message), "expected '" + message + "' in: " + stderr);
        assertEquals(1, stderr.strip().lines().count(), stderr);
    }
}
