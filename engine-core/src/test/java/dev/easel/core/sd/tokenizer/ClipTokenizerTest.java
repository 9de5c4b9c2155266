package dev.easel.core.sd.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClipTokenizerTest {
    private final ClipTokenizer sd1 = ClipTokenizer.sd1();

    private int[] framed(String text) {
        int[] ids = sd1.encode(text);
        int[] out = new int[ids.length + 2];
        out[0] = 49406;
        System.arraycopy(ids, 0, out, 1, ids.length);
        out[out.length - 1] = 49407;
        return out;
    }

    @Test
    void matchesOpenaiClipOnReferenceVectors() {
        assertArrayEquals(new int[] {49406, 320, 1125, 539, 320, 2368, 49407}, framed("a photo of a cat"));
        assertArrayEquals(new int[] {49406, 320, 1125, 539, 320, 2368, 748, 49407}, framed("A PHOTO of a Cat!!"));
        assertArrayEquals(new int[] {49406, 12066, 267, 949, 3027, 267, 272, 1611, 49407},
                framed("masterpiece, best quality, 1girl"));
        assertArrayEquals(new int[] {49406, 847, 713, 1691, 49407}, framed("don't stop"));
        assertArrayEquals(new int[] {49406, 19703, 796, 281, 23435, 318, 2411, 268, 273, 49407},
                framed("embedding:foo_bar-2"));
        assertArrayEquals(new int[] {49406, 71, 3459, 19293, 86, 31762, 730, 7334, 49407},
                framed("héllo wörld \uD83D\uDE00"));
    }

    @Test
    void vocabularyLayoutIsClips() {
        ClipBpe bpe = ClipBpe.bundled();
        assertEquals(49408, bpe.size());
        assertEquals(0, bpe.id("!"));
        assertEquals(265, bpe.id("*</w>"));
        assertEquals(320, bpe.id("a</w>"));
        assertEquals("<|startoftext|>", bpe.token(49406));
        assertEquals("a photo of a cat ", bpe.decode(sd1.encode("a photo of a cat")));
    }

    @Test
    void cleansWhitespaceAndEntities() {
        assertArrayEquals(sd1.encode("a photo of a cat"), sd1.encode("  a\tphoto \n of  a cat "));
        assertArrayEquals(sd1.encode("rock & roll"), sd1.encode("rock &amp;amp; roll"));
    }

    @Test
    void framesPerFamily() {
        int[] a = sd1.tokenize("a red circle");
        assertEquals(77, a.length);
        assertArrayEquals(new int[] {49406, 320, 736, 7117, 49407, 49407}, Arrays.copyOf(a, 6));
        assertEquals(49407, a[76]);
        int[] b = ClipTokenizer.sd2().tokenize("a red circle");
        assertArrayEquals(new int[] {49406, 320, 736, 7117, 49407, 0}, Arrays.copyOf(b, 6));
        assertEquals(0, b[76]);
        int[] empty = sd1.tokenize("");
        assertEquals(49406, empty[0]);
        assertEquals(49407, empty[1]);
    }

    @Test
    void parsesA1111Emphasis() {
        List<PromptParser.Fragment> f = PromptParser.parse("a (red:1.5) [circle] (big) \\(x\\)");
        assertEquals(List.of(new PromptParser.Fragment("a ", 1.0), new PromptParser.Fragment("red", 1.5),
                new PromptParser.Fragment(" ", 1.0), new PromptParser.Fragment("circle", 1 / 1.1),
                new PromptParser.Fragment(" ", 1.0), new PromptParser.Fragment("big", 1.1),
                new PromptParser.Fragment(" (x)", 1.0)), f);
        List<PromptParser.Fragment> nested = PromptParser.parse("((cat)) [[dog]");
        assertEquals(1.1 * 1.1, nested.get(0).weight(), 1e-12);
        assertEquals("cat", nested.get(0).text());
        // the unclosed outer [ still applies at the end
        assertEquals(1 / 1.1 / 1.1, nested.get(2).weight(), 1e-12);
        assertEquals(List.of(new PromptParser.Fragment("", 1.0)), PromptParser.parse(""));
    }

    @Test
    void chunksLongPromptsWithWeights() {
        List<TokenChunk> one = sd1.chunks("a (red:1.5) circle");
        assertEquals(1, one.size());
        assertArrayEquals(sd1.tokenize("a red circle"), one.get(0).ids());
        assertEquals(1.5f, one.get(0).weights()[2]);
        assertEquals(1f, one.get(0).weights()[1]);
        assertEquals(1f, one.get(0).weights()[3]);

        String longPrompt = "cat ".repeat(100);
        List<TokenChunk> two = sd1.chunks(longPrompt);
        assertEquals(2, two.size());
        assertEquals(49407, two.get(0).ids()[76]);
        assertEquals(2368, two.get(0).ids()[75]);
        assertEquals(2368, two.get(1).ids()[25]);
        assertEquals(49407, two.get(1).ids()[26]);

        List<TokenChunk> broken = sd1.chunks("a cat BREAK a dog");
        assertEquals(2, broken.size());
        assertArrayEquals(sd1.tokenize("a dog"), broken.get(1).ids());
    }

    @Test
    void backsUpToTheLastCommaWhenAChunkFills() {
        String prompt = "cat ".repeat(70) + ", red dog house barn mouse more";
        List<TokenChunk> chunks = sd1.chunks(prompt);
        assertEquals(2, chunks.size());
        assertEquals(267, chunks.get(0).ids()[71]);
        assertEquals(49407, chunks.get(0).ids()[72]);
        assertArrayEquals(sd1.tokenize("red dog house barn mouse more"), chunks.get(1).ids());
    }

    @Test
    void addedWordsStayWhole() {
        ClipTokenizer t = ClipTokenizer.sd1();
        t.addWord("my-concept", new int[] {49408, 49409});
        assertArrayEquals(new int[] {320, 1125, 539, 49408, 49409, 2368}, t.encode("a photo of My-Concept cat"));
        assertArrayEquals(new int[] {320, 1125}, t.encode("a photo"));
    }

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    @Test
    void readsAHuggingFaceTokenizerFolder() throws Exception {
        ClipBpe bundled = ClipBpe.bundled();
        try (var in = new java.util.zip.GZIPInputStream(ClipBpe.class.getResourceAsStream(
                "/dev/easel/core/sd/clip/bpe_simple_vocab_16e6.txt.gz"))) {
            // HF's merges.txt is the same header and merges (transformers cuts it the same way)
            java.nio.file.Files.write(dir.resolve("merges.txt"), in.readAllBytes());
        }
        var json = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        for (int i = 0; i < bundled.size(); i++) {
            json.put(bundled.token(i), i);
        }
        java.nio.file.Files.writeString(dir.resolve("vocab.json"), json.toString());
        ClipBpe folder = ClipBpe.fromTokenizerFolder(dir);
        assertArrayEquals(sd1.encode("masterpiece, best quality, 1girl"),
                new ClipTokenizer(folder, 49407).encode("masterpiece, best quality, 1girl"));
        json.put("a</w>", 321);
        java.nio.file.Files.writeString(dir.resolve("vocab.json"), json.toString());
        var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> ClipBpe.fromTokenizerFolder(dir));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'a</w>' has id 321"), e.getMessage());
    }
}
