package dev.easel.core.sd.sampling;

import dev.easel.core.format.AtomicOutputFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/** PNG with text chunks (A1111 stores the generation parameters in a {@code tEXt} chunk named "parameters"). */
public final class PngWriter {
    private PngWriter() {
    }

    /** Writes {@code image} to {@code target} atomically, with one tEXt chunk per entry. */
    public static void write(BufferedImage image, Map<String, String> text, Path target) throws IOException {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        ImageWriter writer = writers.next();
        try (AtomicOutputFile out = AtomicOutputFile.create(target)) {
            OutputStream os = Channels.newOutputStream(out.channel());
            try (ImageOutputStream ios = ImageIO.createImageOutputStream(os)) {
                writer.setOutput(ios);
                IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image),
                        writer.getDefaultWriteParam());
                String format = "javax_imageio_png_1.0";
                IIOMetadataNode root = new IIOMetadataNode(format);
                IIOMetadataNode textNode = new IIOMetadataNode("tEXt");
                IIOMetadataNode itxtNode = new IIOMetadataNode("iTXt");
                for (var e : text.entrySet()) {
                    // Like PIL (which A1111 uses): tEXt when Latin-1 suffices, else UTF-8 iTXt.
                    if (e.getValue().chars().allMatch(c -> c < 256)) {
                        IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
                        entry.setAttribute("keyword", e.getKey());
                        entry.setAttribute("value", e.getValue());
                        textNode.appendChild(entry);
                    } else {
                        IIOMetadataNode entry = new IIOMetadataNode("iTXtEntry");
                        entry.setAttribute("keyword", e.getKey());
                        entry.setAttribute("compressionFlag", "FALSE");
                        entry.setAttribute("compressionMethod", "0");
                        entry.setAttribute("languageTag", "");
                        entry.setAttribute("translatedKeyword", "");
                        entry.setAttribute("text", e.getValue());
                        itxtNode.appendChild(entry);
                    }
                }
                if (textNode.getLength() > 0) {
                    root.appendChild(textNode);
                }
                if (itxtNode.getLength() > 0) {
                    root.appendChild(itxtNode);
                }
                meta.mergeTree(format, root);
                writer.write(null, new IIOImage(image, null, meta), writer.getDefaultWriteParam());
            } finally {
                writer.dispose();
            }
            os.flush();
            out.commit();
        }
    }
}
