"""Writes copies of the selfie-segmentation models with TFLite metadata (NormalizationOptions
mean 0, std 255, i.e. input = pixel / 255) so MediaPipe's ImageSegmenter accepts them.
The graph and weights are untouched. Usage: python segmentation_metadata.py MODEL_DIR OUT_DIR [EXTRA_MODEL.tflite ...]
(run with tflite-support==0.4.4; see segmentation_reference.sh)."""
import os
import sys

from tflite_support.metadata_writers import image_segmenter, writer_utils

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
labels = os.path.join(dst, "labels.txt")
with open(labels, "w") as f:
    f.write("person\n")
paths = [os.path.join(src, n) for n in ("selfie_segmentation.tflite", "selfie_segmentation_landscape.tflite")]
for path in paths + sys.argv[3:]:
    name = os.path.basename(path)
    writer = image_segmenter.MetadataWriter.create_for_inference(
        writer_utils.load_file(path), input_norm_mean=[0.0], input_norm_std=[255.0],
        label_file_paths=[labels])
    writer_utils.save_file(writer.populate(), os.path.join(dst, name))
    print("wrote", os.path.join(dst, name))
