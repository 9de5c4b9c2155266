package dev.easel.plugins.train.lora.kohya;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.easel.cli.EaselCli;
import dev.easel.core.sd.train.SdDiffusionModel;
import dev.easel.core.sd.train.SdDiffusionModelLoader;
import dev.easel.core.train.model.ModelOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** {@code easel train} with a kohya config file, then {@code easel lora inspect} and {@code easel lora bake}. */
class TrainLoraCliTest {
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

    @Test
    void kohyaConfigTrainsALoraThatInspectAndBakeRead() throws IOException {
        Path model = LoraJobs.tinyModel(dir);
        Path data = LoraJobs.images(dir.resolve("img"), 4);
        Path out = dir.resolve("out");
        String toml = """
                [model_arguments]
                pretrained_model_name_or_path = "%s"

                [additional_network_arguments]
                network_module = "networks.lora"
                network_dim = 4
                network_alpha = 2
                network_args = ["conv_dim=2", "conv_alpha=1"]
                network_dropout = 0.1
                unet_lr = 0.002
                text_encoder_lr = 0.001

                [optimizer_arguments]
                optimizer_type = "AdamW"
                learning_rate = 0.002
                lr_scheduler = "cosine"
                lr_warmup_steps = 2

                [dataset_arguments]
                train_data_dir = "%s"
                resolution = 32
                caption_extension = ".txt"
                cache_latents = true
                latent_cache_dir = "%s"

                [training_arguments]
                output_dir = "%s"
                output_name = "tiny_lora"
                save_model_as = "safetensors"
                save_precision = "fp16"
                train_batch_size = 2
                max_train_steps = 4
                seed = 7
                xformers = true

                [sample_prompt_arguments]
                sample_every_n_steps = 2
                sample_prompts = "%s"
                sample_sampler = "k_euler_a"
                """.formatted(model, data, dir.resolve("cache"), out, dir.resolve("prompts.txt"));
        Files.writeString(dir.resolve("prompts.txt"), "# previews\na red square --n blurry --w 32 --h 32 --d 5 --s 2\n"
                + "a blue square --w 36 --h 30 --s 2 --ss ddim\n");
        Path config = dir.resolve("lora.toml");
        Files.writeString(config, toml);

        assertEquals(0, easel("train", config.toString(), "-q"), stderr);
        assertTrue(stderr.contains("xformers"), "a warning names xformers: " + stderr);
        Path lora = out.resolve("tiny_lora.safetensors");
        assertTrue(Files.isRegularFile(lora), stdout + stderr);
        String log = Files.readString(out.resolve("tiny_lora.log.jsonl"));
        assertEquals(4, log.lines().count(), log);
        // a step whose gradient is not finite is skipped with a warning; the loss itself must stay finite
        assertFalse(log.contains("\"loss\":\"NaN\""), log);
        // every step's gradient reached the adapter (lora_up starts at zero, lora_down's gradient with it, not up's)
        for (String line : log.lines().toList()) {
            double norm = Double.parseDouble(line.replaceAll(".*\"grad_norm\":([^,}]+).*", "$1"));
            assertTrue(norm > 0 && Double.isFinite(norm), line);
        }
        // previews at steps 2 and 4, two prompts each, kohya's file names; sizes rounded down to what the model renders
        for (String png : java.util.List.of("tiny_lora_000002_00_5.png", "tiny_lora_000004_00_5.png")) {
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(out.resolve("sample").resolve(png).toFile());
            assertEquals(32, img.getWidth(), png);
        }
        try (var files = Files.list(out.resolve("sample"))) {
            assertEquals(4, files.filter(f -> f.toString().endsWith(".png")).count());
        }

        assertEquals(0, easel("lora", "inspect", lora.toString(), "--base", model.toString(), "--json"), stderr);
        assertTrue(stdout.contains("lora/kohya"), stdout);
        assertTrue(stdout.contains("lora_unet_down_blocks_0_resnets_0_conv1"), stdout);
        assertTrue(stdout.contains("lora_te_text_model_encoder_layers_0_self_attn_q_proj"), stdout);
        assertTrue(stdout.contains("networks.lora"), stdout);

        Path baked = dir.resolve("baked.safetensors");
        Files.copy(model.resolveSibling("tiny.json"), dir.resolve("baked.json"));
        assertEquals(0, easel("lora", "bake", "--base", model.toString(), "--lora", lora.toString(), "--out",
                baked.toString()), stderr);
        // the bake changed the adapted weights, so the baked model predicts differently from the base
        try (NDManager m = LoraJobs.RUNTIME.newManager();
             SdDiffusionModel base = new SdDiffusionModelLoader().load(model.toString(),
                     ModelOptions.defaults(), m);
             SdDiffusionModel bakedModel = new SdDiffusionModelLoader().load(baked.toString(),
                     ModelOptions.defaults(), m)) {
            LoraJobs.Probe a = new LoraJobs.Probe();
            LoraJobs.Probe b = new LoraJobs.Probe();
            LoraJobs.evaluate(base, a, true);
            LoraJobs.evaluate(bakedModel, b, true);
            assertFalse(java.util.Arrays.equals(a.basePrediction, b.basePrediction));
        }
    }

    /** Trains on the stock tiny model ({@code easel init-model}, one resnet per level) and on one with SD's two. */
    @ParameterizedTest(name = "{0} resnet(s) per level")
    @ValueSource(ints = {1, 2})
    void bakedFileEqualsTheTrainedHooks(int resnetsPerLevel) throws IOException {
        Path model;
        if (resnetsPerLevel == 1) {
            model = dir.resolve("stock").resolve("tiny.safetensors");
            Files.createDirectories(model.getParent());
            assertEquals(0, easel("init-model", "--config", "tiny", "--seed", "7", "--out", model.toString()), stderr);
        } else {
            model = LoraJobs.tinyModel(dir);
        }
        Path data = LoraJobs.images(dir.resolve("img"), 4);
        Path out = dir.resolve("out");
        LoraJobs.Probe probe = new LoraJobs.Probe();
        Map<String, String> p = LoraJobs.params(model, data, out);
        p.put("max_train_steps", "8");
        p.put("network_args", "conv_dim=2 conv_alpha=1");
        LoraJobs.train(p, probe);
        Path baked = dir.resolve("baked.safetensors");
        Files.copy(model.resolveSibling("tiny.json"), dir.resolve("baked.json"));
        assertEquals(0, easel("lora", "bake", "--base", model.toString(), "--lora",
                out.resolve("tiny_lora.safetensors").toString(), "--out", baked.toString()), stderr);
        // every module of the file landed on a weight of this model, none skipped
        assertFalse(stderr.contains("skipp") || stdout.contains("skipp"), stdout + stderr);
        try (NDManager m = LoraJobs.RUNTIME.newManager();
             SdDiffusionModel bakedModel = new SdDiffusionModelLoader().load(baked.toString(),
                     ModelOptions.defaults(), m)) {
            LoraJobs.Probe b = new LoraJobs.Probe();
            LoraJobs.evaluate(bakedModel, b, true);
            double maxDiff = 0;
            double maxMoved = 0;
            for (int i = 0; i < b.basePrediction.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(b.basePrediction[i] - probe.finalPrediction[i]));
                maxMoved = Math.max(maxMoved, Math.abs(probe.basePrediction[i] - probe.finalPrediction[i]));
            }
            System.out.printf("baked vs trained hooks: max diff %.3g (training moved outputs by up to %.3g)%n",
                    maxDiff, maxMoved);
            assertTrue(maxMoved > 1e-3, "training changed the outputs");
            assertTrue(maxDiff < 1e-4 + maxMoved * 1e-3, "baked model differs from the trained hooks by " + maxDiff);
        }
    }
}
