"""Regenerates tests/fixtures/segmentation/: input photographs at each model's resolution
(8-bit RGB PNG) and MediaPipe's own confidence masks for them (16-bit grey PNG, value/65535).

Reference runtime: the `mediapipe` wheel's ImageSegmenter (CPU), fed the metadata-augmented
copies of the npm models written by segmentation_metadata.py. Images: photographs bundled with
scikit-image (astronaut, camera, chelsea - a cat, so a mask that should stay near 0) and with
matplotlib (grace_hopper). Each is centre-cropped to the model's aspect ratio and resized with
Pillow's bicubic filter. Usage: python segmentation_reference.py MODEL_DIR OUT_DIR
"""
import os
import sys

import matplotlib.cbook
import mediapipe as mp
import numpy as np
import skimage.data
from PIL import Image

MODELS = {"landscape": ("selfie_segmentation_landscape.tflite", 256, 144),
          "square": ("selfie_segmentation.tflite", 256, 256),
          # fuzz/make_seeds.py's model: every supported operator (incl. AVERAGE_POOL_2D and
          # MEAN), random weights, 12x8 input.
          "tiny": ("tiny.tflite", 12, 8)}


def photos():
    grace = np.asarray(Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))
    cam = skimage.data.camera()
    return {"astronaut": skimage.data.astronaut(), "camera": np.stack([cam] * 3, axis=-1),
            "grace_hopper": grace, "chelsea": skimage.data.chelsea()}


def fit(img, w, h):
    """Centre crop to w:h, then resize to w x h."""
    ih, iw = img.shape[:2]
    if iw * h > ih * w:
        cw, ch = ih * w // h, ih
    else:
        cw, ch = iw, iw * h // w
    x, y = (iw - cw) // 2, (ih - ch) // 2
    crop = Image.fromarray(np.ascontiguousarray(img[y:y + ch, x:x + cw, :3]))
    return np.asarray(crop.resize((w, h), Image.BICUBIC))


def main(model_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    vision = mp.tasks.vision
    for tag, (file, w, h) in MODELS.items():
        options = vision.ImageSegmenterOptions(
            base_options=mp.tasks.BaseOptions(model_asset_path=os.path.join(model_dir, file),
                                              delegate=mp.tasks.BaseOptions.Delegate.CPU),
            running_mode=vision.RunningMode.IMAGE, output_confidence_masks=True, output_category_mask=False)
        with vision.ImageSegmenter.create_from_options(options) as seg:
            for name, img in photos().items():
                if tag == "tiny" and name != "astronaut":
                    continue
                rgb = np.ascontiguousarray(fit(img, w, h))
                result = seg.segment(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
                masks = result.confidence_masks
                assert len(masks) == 1, f"expected one confidence mask, got {len(masks)}"
                mask = masks[0].numpy_view().reshape(h, w)
                Image.fromarray(rgb).save(os.path.join(out_dir, f"{name}_{tag}.png"), optimize=True)
                q = np.round(np.clip(mask, 0, 1) * 65535).astype(np.uint16)
                Image.fromarray(q).save(os.path.join(out_dir, f"{name}_{tag}_mask.png"), optimize=True)
                print(f"{name}_{tag}: mean {mask.mean():.4f}, person fraction {(mask > 0.5).mean():.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
