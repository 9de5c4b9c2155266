/**
 * The model side of training: {@link dev.easel.core.train.model.DiffusionModel}, the minimal contract the networks
 * code implements so that the loop can encode images and text and run the UNet, its loader SPI and the preview
 * hook.
 */
package dev.easel.core.train.model;
