//! Pixel formats (src/video/pixels.rs): a photograph converted to I420 / NV12 (BT.601 and
//! BT.709, limited and full range) and to BGRA comes back as RGBA within rounding of the exact
//! float conversion, at any width (SIMD groups and tails) and with padded strides.

use visio_media_effects::video::pixels::{Matrix, Picture, PixelFormat, PlaneLayout, YuvToRgb};

/// The astronaut photograph (512x512 RGBA, tests/fixtures/video), cropped to `w x h`.
fn photo(w: usize, h: usize) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/video/person-astronaut.pam"
    );
    let bytes = std::fs::read(path).unwrap();
    let end = bytes.windows(7).position(|b| b == b"ENDHDR\n").unwrap() + 7;
    let data = &bytes[end..];
    let mut out = vec![0u8; w * h * 4];
    for y in 0..h {
        for x in 0..w {
            let s = ((y + 100) * 512 + x + 40) * 4;
            out[(y * w + x) * 4..][..3].copy_from_slice(&data[s..s + 3]);
            out[(y * w + x) * 4 + 3] = 255;
        }
    }
    out
}

/// RGB -> Y U V (float, the inverse of `YuvToRgb`), as an encoder would.
fn to_yuv(rgb: [f32; 3], matrix: Matrix, full: bool) -> [f32; 3] {
    let (kr, kb) = match matrix {
        Matrix::Bt601 => (0.299, 0.114),
        Matrix::Bt709 => (0.2126, 0.0722),
        Matrix::Bt2020 => (0.2627, 0.0593),
    };
    let [r, g, b] = rgb.map(|v| v / 255.0);
    let y = kr * r + (1.0 - kr - kb) * g + kb * b;
    let (u, v) = ((b - y) / (2.0 * (1.0 - kb)), (r - y) / (2.0 * (1.0 - kr)));
    if full {
        [255.0 * y, 128.0 + 255.0 * u, 128.0 + 255.0 * v]
    } else {
        [16.0 + 219.0 * y, 128.0 + 224.0 * u, 128.0 + 224.0 * v]
    }
}

/// `rgba` (w x h) as I420 or NV12 with padded rows: (bytes, layout). Chroma: 2x2 means.
fn encode(
    rgba: &[u8],
    w: usize,
    h: usize,
    format: PixelFormat,
    matrix: Matrix,
    full: bool,
) -> (Vec<u8>, Vec<PlaneLayout>) {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let q = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    let px = |x: usize, y: usize| {
        let i = (y.min(h - 1) * w + x.min(w - 1)) * 4;
        to_yuv(
            [rgba[i] as f32, rgba[i + 1] as f32, rgba[i + 2] as f32],
            matrix,
            full,
        )
    };
    let ys = w + 3;
    let mut data = vec![0u8; 7];
    let y_off = data.len();
    data.resize(y_off + ys * h, 0);
    for y in 0..h {
        for x in 0..w {
            data[y_off + y * ys + x] = q(px(x, y)[0]);
        }
    }
    let chroma = |c: usize, x: usize, y: usize| {
        (px(2 * x, 2 * y)[c]
            + px(2 * x + 1, 2 * y)[c]
            + px(2 * x, 2 * y + 1)[c]
            + px(2 * x + 1, 2 * y + 1)[c])
            / 4.0
    };
    let mut layout = vec![PlaneLayout {
        offset: y_off,
        stride: ys,
    }];
    if format == PixelFormat::Nv12 {
        let (off, stride) = (data.len(), 2 * cw + 6);
        data.resize(off + stride * ch, 0);
        for y in 0..ch {
            for x in 0..cw {
                data[off + y * stride + 2 * x] = q(chroma(1, x, y));
                data[off + y * stride + 2 * x + 1] = q(chroma(2, x, y));
            }
        }
        layout.push(PlaneLayout {
            offset: off,
            stride,
        });
    } else {
        for c in 1..3 {
            let (off, stride) = (data.len(), cw + 1);
            data.resize(off + stride * ch, 0);
            for y in 0..ch {
                for x in 0..cw {
                    data[off + y * stride + x] = q(chroma(c, x, y));
                }
            }
            layout.push(PlaneLayout {
                offset: off,
                stride,
            });
        }
    }
    (data, layout)
}

#[test]
fn yuv_formats_convert_within_rounding_of_the_exact_conversion() {
    for (w, h) in [(64, 48), (37, 21), (6, 5), (1, 1), (320, 181)] {
        let rgba = photo(w, h);
        for format in [PixelFormat::I420, PixelFormat::Nv12] {
            for matrix in [Matrix::Bt601, Matrix::Bt709, Matrix::Bt2020] {
                for full in [false, true] {
                    let (data, layout) = encode(&rgba, w, h, format, matrix, full);
                    let colour = YuvToRgb::new(matrix, full);
                    let picture = Picture::new(format, w, h, &data, &layout, colour).unwrap();
                    let mut out = vec![0u8; w * h * 4];
                    picture.to_rgba(&mut out);
                    let (mut worst, mut err_photo) = (0.0f32, 0.0f64);
                    for y in 0..h {
                        for x in 0..w {
                            let exact = picture.rgb_at(x, y);
                            for c in 0..3 {
                                let o = out[(y * w + x) * 4 + c] as f32;
                                worst = worst.max((o - exact[c].clamp(0.0, 255.0)).abs());
                                err_photo += (o - rgba[(y * w + x) * 4 + c] as f32).abs() as f64;
                            }
                            assert_eq!(out[(y * w + x) * 4 + 3], 255);
                        }
                    }
                    let err_photo = err_photo / (3 * w * h) as f64;
                    // The fixed-point kernel: within rounding of the float conversion.
                    assert!(worst <= 1.0, "{format:?} {matrix:?} full {full} {w}x{h}: {worst} from the exact conversion");
                    // The round trip through 4:2:0: chroma subsampling and 8-bit quantisation.
                    assert!(err_photo < 2.5, "{format:?} {matrix:?} full {full} {w}x{h}: mean error {err_photo} from the photograph");
                    if (w, h) == (320, 181) {
                        println!("{format:?} {matrix:?} full {full}: mean abs error vs the RGB photograph {err_photo:.3}/255");
                    }
                }
            }
        }
    }
}

#[test]
fn packed_formats_reorder_bytes_and_make_alpha_opaque() {
    let (w, h) = (13, 4);
    let rgba = photo(w, h);
    let stride = w * 4 + 8;
    for format in [
        PixelFormat::Rgba,
        PixelFormat::Rgbx,
        PixelFormat::Bgra,
        PixelFormat::Bgrx,
    ] {
        let mut data = vec![0u8; stride * h];
        for y in 0..h {
            for x in 0..w {
                let s = &rgba[(y * w + x) * 4..][..4];
                let bgr = matches!(format, PixelFormat::Bgra | PixelFormat::Bgrx);
                let px = if bgr {
                    [s[2], s[1], s[0], 7]
                } else {
                    [s[0], s[1], s[2], 7]
                };
                data[y * stride + x * 4..][..4].copy_from_slice(&px);
            }
        }
        let layout = [PlaneLayout { offset: 0, stride }];
        let picture = Picture::new(
            format,
            w,
            h,
            &data,
            &layout,
            YuvToRgb::new(Matrix::Bt601, false),
        )
        .unwrap();
        let mut out = vec![0u8; w * h * 4];
        picture.to_rgba(&mut out);
        assert_eq!(out, rgba, "{format:?}");
        let exact = picture.rgb_at(5, 2);
        assert_eq!(
            exact.map(|v| v as u8),
            [
                rgba[(2 * w + 5) * 4],
                rgba[(2 * w + 5) * 4 + 1],
                rgba[(2 * w + 5) * 4 + 2]
            ]
        );
    }
}

#[test]
fn layouts_outside_the_buffer_are_errors() {
    let colour = YuvToRgb::new(Matrix::Bt709, false);
    let data = vec![0u8; 64 * 48 * 3 / 2];
    let tight = [
        PlaneLayout {
            offset: 0,
            stride: 64,
        },
        PlaneLayout {
            offset: 64 * 48,
            stride: 32,
        },
        PlaneLayout {
            offset: 64 * 48 * 5 / 4,
            stride: 32,
        },
    ];
    assert!(Picture::new(PixelFormat::I420, 64, 48, &data, &tight, colour).is_ok());
    let mut short = tight;
    short[2].offset += 1;
    let e = Picture::new(PixelFormat::I420, 64, 48, &data, &short, colour).unwrap_err();
    assert!(e.to_string().contains("plane 2 ends at byte"), "{e}");
    let e = Picture::new(PixelFormat::I420, 64, 48, &data, &tight[..2], colour).unwrap_err();
    assert!(e.to_string().contains("3 planes"), "{e}");
    let mut narrow = tight;
    narrow[0].stride = 63;
    let e = Picture::new(PixelFormat::I420, 64, 48, &data, &narrow, colour).unwrap_err();
    assert!(e.to_string().contains("stride 63"), "{e}");
    assert!(Picture::new(PixelFormat::I420, 0, 48, &data, &tight, colour).is_err());
    assert_eq!(PixelFormat::parse("I444"), None);
    assert_eq!(Matrix::parse("rgb"), None);
    assert_eq!(Matrix::default_for(720), Matrix::Bt709);
    assert_eq!(Matrix::default_for(480), Matrix::Bt601);
}
