package dev.easel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.core.osgi.TestBundles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The CLI as a user runs it, in-process through picocli. */
class EaselCliTest {
    @TempDir
    Path plugins;

    record Result(int status, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = EaselCli.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(status, out.toString(), err.toString());
    }

    @BeforeEach
    void dropBundles() throws Exception {
        TestBundles.versionedMerge("cli.good", "1.2.3").writeTo(plugins.resolve("good.jar"));
        TestBundles.versionedMerge("cli.future", "1.0.0")
                .imports("dev.easel.api;version=\"[3.0,4)\",dev.easel.api.merge;version=\"[3.0,4)\"")
                .writeTo(plugins.resolve("future.jar"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "plugins", "plugins list", "plugins info", "serve", "quickstart"})
    void everyCommandHasHelp(String command) {
        String[] words = command.isEmpty() ? new String[0] : command.split(" ");
        String[] args = java.util.Arrays.copyOf(words, words.length + 1);
        args[words.length] = "--help";
        Result r = run(args);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("Usage: easel"), r.out());
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertEquals(2, run("plugins", "list", "--no-such-flag").status());
        assertEquals(2, run("frobnicate").status());
        Result missing = run("plugins", "info");
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("Missing required parameter"), missing.err());
    }

    @Test
    void pluginsListJsonShowsActiveAndRefusedBundles() throws Exception {
        Result r = run("plugins", "list", "--json", "--plugins", plugins.toString());
        assertEquals(0, r.status(), r.err());
        JsonNode array = new ObjectMapper().readTree(r.out());
        Map<String, JsonNode> byBundle = new HashMap<>();
        array.forEach(n -> byBundle.put(n.get("bundle").asText(), n));
        JsonNode good = byBundle.get("cli.good");
        assertEquals("merge-algorithm", good.get("kind").asText());
        assertEquals("probe/versioned", good.get("id").asText());
        assertEquals("1.2.3", good.get("version").asText());
        assertEquals("1.2.3", good.get("bundleVersion").asText());
        assertEquals("active", good.get("state").asText());
        assertEquals("", good.get("reason").asText());
        JsonNode refused = byBundle.get("cli.future");
        assertEquals("refused", refused.get("state").asText());
        assertTrue(refused.get("reason").asText().contains("dev.easel.api [3.0,4) but this host provides 1.0.0"),
                refused.toString());
        for (JsonNode n : array) {
            for (String field : new String[] {"kind", "id", "version", "bundle", "bundleVersion", "state", "reason"}) {
                assertTrue(n.has(field), field + " missing in " + n);
            }
        }
    }

    @Test
    void pluginsListTableAndInfo() {
        Result table = run("plugins", "list", "--plugins", plugins.toString());
        assertEquals(0, table.status(), table.err());
        assertTrue(table.out().contains("probe/versioned"), table.out());
        assertTrue(table.out().contains("refused"), table.out());

        Result info = run("plugins", "info", "probe", "--plugins", plugins.toString());
        assertEquals(0, info.status(), info.err());
        assertTrue(info.out().contains("probe/versioned 1.2.3 (merge-algorithm)"), info.out());
        assertTrue(info.out().contains("bundle: cli.good 1.2.3"), info.out());
    }

    @Test
    void failuresExitWithOneAndOneLine() {
        Result unknown = run("plugins", "info", "nothing/here", "--plugins", plugins.toString());
        assertEquals(1, unknown.status());
        assertTrue(unknown.err().startsWith("easel: no plugin 'nothing/here' is installed"), unknown.err());
        assertEquals(1, unknown.err().strip().lines().count(), unknown.err());

        Result badDir = run("plugins", "list", "--plugins", plugins.resolve("missing").toString());
        assertEquals(1, badDir.status());
        assertTrue(badDir.err().contains("does not exist"), badDir.err());
    }
}
