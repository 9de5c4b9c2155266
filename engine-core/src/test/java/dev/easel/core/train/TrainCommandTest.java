package dev.easel.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.cli.EaselCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code easel train} end to end on a kohya config file, a dataset TOML and a PNG/JPEG/WebP image folder. */
class TrainCommandTest {
    @TempDir
    Path tmp;

    record Result(int status, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = EaselCli.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(status, out.toString(), err.toString());
    }

    @Test
    void kohyaConfigFileRunsAsIs() throws Exception {
        Path data = TrainFixtures.images(tmp.resolve("img/10_toy cat"), 3, 32, 48, "png", 1);
        TrainFixtures.images(tmp.resolve("img/2_toy dog"), 2, 48, 32, "jpg", 2);
        Files.copy(getClass().getResourceAsStream("/train/red-32x24.webp"), data.resolve("webp0.webp"));
        Files.writeString(tmp.resolve("prompts.txt"), "# previews\ntoy cat --w 64 --h 64 --d 5\ntoy dog --n blurry\n");
        Path out = tmp.resolve("out");
        String toml = """
                [model_arguments]
                pretrained_model_name_or_path = "toy:3"
                v_parameterization = false

                [additional_network_arguments]
                network_module = "networks.lora"
                network_dim = 2
                network_alpha = 1.0
                network_args = ["conv_dim=4", "conv_alpha=1"]

                [optimizer_arguments]
                optimizer_type = "AdamW8bit"
                learning_rate = 0.01
                lr_scheduler = "cosine_with_restarts"
                lr_warmup_steps = 2
                lr_scheduler_num_cycles = 2
                max_grad_norm = 1.0

                [dataset_arguments]
                train_data_dir = "%s"
                resolution = "32,32"
                enable_bucket = true
                min_bucket_reso = 16
                max_bucket_reso = 64
                bucket_reso_steps = 8
                caption_extension = ".txt"
                shuffle_caption = true
                keep_tokens = 1
                cache_latents = true
                cache_latents_to_disk = true

                [training_arguments]
                output_dir = "%s"
                output_name = "kohya-toy"
                save_model_as = "safetensors"
                train_batch_size = 2
                max_train_steps = 12
                seed = 42
                mixed_precision = "no"
                xformers = true
                gradient_checkpointing = true
                noise_offset = 0.05
                adaptive_noise_scale = 0.01
                multires_noise_iterations = 6
                multires_noise_discount = 0.3
                min_snr_gamma = 5
                masked_loss = false
                zero_terminal_snr = false
                huber_c = 0.1
                huber_schedule = "snr"
                v_pred_like_loss = 0
                save_every_n_steps = 6
                max_data_loader_n_workers = 0

                [sample_prompt_arguments]
                sample_every_n_steps = 6
                sample_prompts = "%s"
                sample_sampler = "euler_a"
                """.formatted(tmp.resolve("img"), out, tmp.resolve("prompts.txt"));
        Path config = tmp.resolve("kohya.toml");
        Files.writeString(config, toml);
        Result r = run("train", config.toString(), "--method", "toy/test", "--param",
                "latent_cache_dir=" + tmp.resolve("cache"), "-q");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("kohya key 'xformers' has no effect"), r.err());
        assertTrue(r.err().contains("kohya key 'gradient_checkpointing' has no effect"), r.err());
        assertTrue(r.err().contains("AdamW8bit' trains as AdamW"), r.err());
        assertTrue(r.out().contains("trained 12 steps"), r.out());
        assertTrue(Files.exists(out.resolve("kohya-toy.safetensors")));
        assertTrue(Files.exists(out.resolve("kohya-toy-step00000006.safetensors")));
        assertTrue(Files.exists(out.resolve("kohya-toy.log.jsonl")));
        assertEquals(12, Files.readAllLines(out.resolve("kohya-toy.log.jsonl")).size());
        assertTrue(Files.exists(out.resolve("kohya-toy.loss.png")));
        assertTrue(Files.exists(out.resolve("state/step-00000012/state.json")));
        try (var s = Files.list(out.resolve("sample"))) {
            assertEquals(4, s.count(), "two prompts at steps 6 and 12");
        }
        assertTrue(Files.exists(out.resolve("sample/kohya-toy_000006_00_5.png")));

        // A second run over the same images reuses every cached latent.
        long cached;
        try (var s = Files.walk(tmp.resolve("cache"))) {
            cached = s.filter(Files::isRegularFile).count();
        }
        assertEquals(6, cached, "one latent per image (no flip_aug)");
        Result again = run("train", config.toString(), "--method", "toy/test", "--param",
                "latent_cache_dir=" + tmp.resolve("cache"), "--param", "output_dir=" + tmp.resolve("out2"), "-q");
        assertEquals(0, again.status(), again.err());
        assertEquals(Files.readAllLines(out.resolve("kohya-toy.log.jsonl")).stream().map(TrainCommandTest::loss)
                .toList(), Files.readAllLines(tmp.resolve("out2/kohya-toy.log.jsonl")).stream()
                .map(TrainCommandTest::loss).toList(), "same seed, same losses");
    }

    private static String loss(String line) {
        int at = line.indexOf("\"loss\":");
        return line.substring(at, line.indexOf(',', at));
    }

    @Test
    void configErrorsNameTheKeyAndTheFileAndExitWithOne() throws Exception {
        Path config = tmp.resolve("bad.toml");
        Files.writeString(config, """
                pretrained_model_name_or_path = "toy:1"
                train_data_dir = "%s"
                learnig_rate = 1e-4
                """.formatted(tmp));
        Result r = run("train", config.toString(), "--method", "toy/test");
        assertEquals(1, r.status());
        assertTrue(r.err().contains(config + ": unknown key 'learnig_rate' (did you mean 'learning_rate'?)"),
                r.err());

        Result badValue = run("train", "--method", "toy/test", "--param", "pretrained_model_name_or_path=toy:1",
                "--param", "train_data_dir=" + tmp, "--param", "max_train_steps=-3");
        assertEquals(1, badValue.status());
        assertTrue(badValue.err().contains("--param: parameter 'max_train_steps' = -3.0 is outside its range"),
                badValue.err());

        Result unknownMethod = run("train", "--method", "nope/none", "--param", "train_data_dir=" + tmp);
        assertEquals(1, unknownMethod.status());
        assertTrue(unknownMethod.err().contains("--method: "), unknownMethod.err());

        Result unsupported = run("train", "--method", "toy/test", "--param", "pretrained_model_name_or_path=toy:1",
                "--param", "train_data_dir=" + tmp, "--param", "masked_loss=true");
        assertEquals(1, unsupported.status());
        assertTrue(unsupported.err().contains("kohya key 'masked_loss' is not supported"), unsupported.err());
        assertFalse(Files.exists(tmp.resolve("output")), "nothing written before validation passes");
    }

    @Test
    void helpAndUsage() {
        Result help = run("train", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("Usage: easel train"), help.out());
        assertEquals(2, run("train").status(), "neither a file nor keys");
    }

    @Test
    void shortJobNeedsNoFile() throws Exception {
        Path data = TrainFixtures.images(tmp.resolve("plain"), 2, 16, 16, "png", 3);
        Map<String, String> p = TrainFixtures.params(data, tmp.resolve("o"), tmp.resolve("c"));
        p.put("max_train_steps", "3");
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train", "--method", "toy/test",
                "-q"));
        p.forEach((k, v) -> {
            args.add("--param");
            args.add(k + "=" + v);
        });
        Result r = run(args.toArray(String[]::new));
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.exists(tmp.resolve("o/toy.safetensors")));
    }
}
