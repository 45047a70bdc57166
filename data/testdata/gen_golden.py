#!/usr/bin/python3
"""Golden outputs of torchvision's photometric functions and PyTorch's antialiased bilinear
resize, for data/augment_golden_test.go.

Command:  /usr/bin/python3 data/testdata/gen_golden.py   (from the repository root)
Writes:   data/testdata/photometric.json
Seed:     0 (torch.manual_seed)
Versions: Debian 12 python3-torch 1.13, python3-torchvision 0.14 (recorded in the file)

The input is a random 3x9x11 image in [0, 1]; the Go side scales it by 255, applies the same
function, and compares after dividing by 255. Kept in data/testdata (not scripts/) because
the data helper's brief assigns it only data/.
"""
import json
import torch
import torchvision
import torchvision.transforms.functional as F

torch.manual_seed(0)
img = torch.rand(3, 9, 11)
# a few exact grays and saturated pixels exercise the HSV special cases
img[:, 0, 0] = 0.5
img[:, 0, 1] = torch.tensor([1.0, 0.0, 0.0])
img[:, 0, 2] = torch.tensor([0.2, 0.2, 0.9])

cases = []


def add(name, out, **params):
    cases.append({"name": name, "params": params, "shape": list(out.shape),
                  "out": [round(float(v), 7) for v in out.flatten()]})


add("brightness", F.adjust_brightness(img, 1.3), factor=1.3)
add("contrast", F.adjust_contrast(img, 0.6), factor=0.6)
add("contrast", F.adjust_contrast(img, 1.8), factor=1.8)
add("saturation", F.adjust_saturation(img, 1.7), factor=1.7)
add("saturation", F.adjust_saturation(img, 0.2), factor=0.2)
add("hue", F.adjust_hue(img, 0.23), factor=0.23)
add("hue", F.adjust_hue(img, -0.31), factor=-0.31)
add("grayscale", F.rgb_to_grayscale(img, num_output_channels=3))
add("blur", F.gaussian_blur(img, [5, 5], [1.1, 1.1]), kernel=5, sigma=1.1)
add("blur", F.gaussian_blur(img, [3, 3], [0.5, 0.5]), kernel=3, sigma=0.5)
add("solarize", F.solarize(img, 0.5), threshold=0.5)
for h, w in [(4, 5), (13, 17), (6, 11), (9, 4)]:
    out = torch.nn.functional.interpolate(img[None], size=(h, w), mode="bilinear",
                                          align_corners=False, antialias=True)[0]
    add("resize", out, h=h, w=w)

json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__, "seed": 0,
           "input_shape": list(img.shape),
           "input": [round(float(v), 7) for v in img.flatten()], "cases": cases},
          open("data/testdata/photometric.json", "w"), indent=None)
print("wrote data/testdata/photometric.json with", len(cases), "cases")
