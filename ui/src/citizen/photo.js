// Photos from a phone camera are large: scale them down to a JPEG under the hub's limit.

const MAX_SIDE = 1600;

/** The photo as the hub's `{content_type, data}`, or undefined when none was chosen. */
export async function readPhoto(file, maxBytes) {
  if (!file) return undefined;
  if (!file.type.startsWith('image/')) throw new Error('citizen.photo_not_image');
  const image = await createImageBitmap(file).catch(() => {
    throw new Error('citizen.photo_unreadable');
  });
  const scale = Math.min(1, MAX_SIDE / Math.max(image.width, image.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(image.width * scale);
  canvas.height = Math.round(image.height * scale);
  canvas.getContext('2d').drawImage(image, 0, 0, canvas.width, canvas.height);
  for (const quality of [0.85, 0.7, 0.5, 0.35]) {
    const data = canvas.toDataURL('image/jpeg', quality).split(',')[1];
    if ((data.length * 3) / 4 <= maxBytes) return { content_type: 'image/jpeg', data };
  }
  throw new Error('citizen.photo_too_large');
}
