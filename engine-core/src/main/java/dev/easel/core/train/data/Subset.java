package dev.easel.core.train.data;

import java.nio.file.Path;

/**
 * One folder of images with its kohya subset options.
 *
 * @param imageDir                   the folder
 * @param numRepeats                 times each image is seen per epoch
 * @param classTokens                caption of images without a caption file ({@code N_name} folder name)
 * @param isReg                      regularisation images
 * @param captionExtension           caption file extension ({@code .caption}; {@code .txt} is also looked for)
 * @param captions                   caption processing options
 * @param flipAug                    random horizontal flips
 * @param randomCrop                 random instead of centre crops
 */
public record Subset(Path imageDir, int numRepeats, String classTokens, boolean isReg, String captionExtension,
                     CaptionOptions captions, boolean flipAug, boolean randomCrop) {
}
