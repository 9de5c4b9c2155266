package dev.easel.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.core.sd.tokenizer.ClipTokenizer;
import dev.easel.core.sd.tokenizer.TokenChunk;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code easel tokenize}: the CLIP token ids of a prompt. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Prints the CLIP token ids of a prompt: A1111 emphasis parsed, 77-token chunks "
                + "(BOS, 75 tokens, EOS, padding), with per-token weights when any differs from 1.",
            "  easel tokenize \"a (red:1.2) circle\"",
            "  easel tokenize --raw \"a photo of a cat\"      -> 320 1125 539 320 2368"})
public final class TokenizeCommand implements Runnable {
    @Option(names = "--raw", description = "BPE ids of the plain text only: no emphasis parsing, BOS/EOS or padding.")
    boolean raw;

    @Option(names = "--json", description = "Print JSON (ids, token strings, weights).")
    boolean json;

    @Option(names = "--family", paramLabel = "sd1|sd2", defaultValue = "sd1",
            description = "Padding convention: sd1 pads with <|endoftext|> 49407, sd2 (OpenCLIP) with 0. Default: sd1.")
    String family;

    @Parameters(paramLabel = "PROMPT", arity = "1", description = "The prompt (quote it).")
    String prompt;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        ClipTokenizer tok = switch (family.toLowerCase(Locale.ROOT)) {
            case "sd1" -> ClipTokenizer.sd1();
            case "sd2" -> ClipTokenizer.sd2();
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "--family must be sd1 or sd2");
        };
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper mapper = new ObjectMapper();
        if (raw) {
            int[] ids = tok.encode(prompt);
            if (json) {
                ObjectNode root = mapper.createObjectNode();
                root.put("prompt", prompt);
                ids(root.putArray("ids"), ids);
                tokens(root.putArray("tokens"), tok, ids);
                out.println(root.toString());
            } else {
                out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
            }
        } else {
            List<TokenChunk> chunks = tok.chunks(prompt);
            if (json) {
                ObjectNode root = mapper.createObjectNode();
                root.put("prompt", prompt);
                root.put("pad", tok.padId());
                ArrayNode arr = root.putArray("chunks");
                for (TokenChunk c : chunks) {
                    ObjectNode n = arr.addObject();
                    ids(n.putArray("ids"), c.ids());
                    ArrayNode w = n.putArray("weights");
                    for (float f : c.weights()) {
                        w.add(f);
                    }
                }
                out.println(root.toString());
            } else {
                for (TokenChunk c : chunks) {
                    out.println(Arrays.stream(c.ids()).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
                    boolean weighted = false;
                    for (float f : c.weights()) {
                        weighted |= f != 1f;
                    }
                    if (weighted) {
                        StringBuilder sb = new StringBuilder("weights:");
                        for (float f : c.weights()) {
                            sb.append(' ').append(new java.math.BigDecimal(String.format(Locale.ROOT, "%.4g", f))
                                    .stripTrailingZeros().toPlainString());
                        }
                        out.println(sb);
                    }
                }
            }
        }
        out.flush();
    }

    private static void ids(ArrayNode arr, int[] ids) {
        for (int i : ids) {
            arr.add(i);
        }
    }

    private static void tokens(ArrayNode arr, ClipTokenizer tok, int[] ids) {
        for (int i : ids) {
            arr.add(i < tok.bpe().size() ? tok.bpe().token(i) : "<added " + i + ">");
        }
    }
}
