package dev.easel.distribution;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code bin/easel} of the assembled distribution as a separate process. */
final class EaselProcess {
    static final Path DIST = Path.of(System.getProperty("easel.dist", "target/easel"));
    static final Path THIRD_PARTY = Path.of(System.getProperty("easel.thirdParty", "target/third-party"));

    record Result(int status, String out, String err) {
    }

    private EaselProcess() {
    }

    static ProcessBuilder builder(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(DIST.resolve("bin/easel").toString());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd);
    }

    static Result run(String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile("easel-out", ".txt");
        Path err = Files.createTempFile("easel-err", ".txt");
        try {
            Process p = builder(args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("easel " + String.join(" ", args) + " did not finish in 5 minutes");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
