package dev.easel.plugins.train.ti;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptTemplatesTest {
    @TempDir
    Path dir;

    @Test
    void a1111TemplateFilesFillNameAndFilewords() throws IOException {
        Path file = dir.resolve("subject_filewords.txt");
        Files.writeString(file, "a photo of a [name], [filewords]\n\n  [filewords], art by [name]  \n");
        PromptTemplates t = PromptTemplates.select(false, false, file.toString());
        assertEquals(List.of("a photo of a [name], [filewords]", "[filewords], art by [name]"), t.lines());
        Set<String> seen = new HashSet<>();
        for (long seed = 0; seed < 40; seed++) {
            seen.addAll(t.prompts(List.of("red, square"), "zxq", seed));
        }
        assertEquals(Set.of("a photo of a zxq, red, square", "red, square, art by zxq"), seen);
        assertEquals("a photo of a zxq", PromptTemplates.fill("a photo of a [name], [filewords]", "zxq", ""));
        assertEquals("art by zxq", PromptTemplates.fill("[filewords], art by [name]", "zxq", " "));
    }

    @Test
    void choicesDependOnlyOnTheStepSeedAndPosition() throws IOException {
        PromptTemplates t = PromptTemplates.select(true, false, "");
        assertEquals(27, t.lines().size());
        List<String> captions = List.of("", "", "", "");
        assertEquals(t.prompts(captions, "zxq", 7), t.prompts(captions, "zxq", 7));
        assertNotEquals(t.prompts(captions, "zxq", 7), t.prompts(captions, "zxq", 8));
        assertTrue(t.prompts(captions, "zxq", 7).stream().allMatch(p -> p.contains("zxq") && !p.contains("[")));
        assertEquals(19, PromptTemplates.select(false, true, "").lines().size());
        assertTrue(PromptTemplates.select(false, false, "style_filewords").lines().get(0)
                .equals("a painting in the style of [name], [filewords]"));
        List<String> asIs = List.of("a zxq on a table");
        assertSame(asIs, PromptTemplates.select(false, false, " ").prompts(asIs, "zxq", 1));
    }
}
