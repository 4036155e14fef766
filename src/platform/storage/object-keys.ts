/**
 * Every object key the application writes, named here and only here (the store validates their
 * shape in object-store.ts `isValidKey`). Keys are built from server-made ids only, never from
 * user text. Each output is keyed by the row that owns it, so an attempt working for a row that
 * has since been replaced can never overwrite the replacement's object.
 */
export const objectKeys = {
  /** The uploaded file as received: `originals/<entryId>/<videoId>`. */
  original: (entryId: string, videoId: string) => `originals/${entryId}/${videoId}`,
  /** The judges' preview of a video (made by the ingest job). */
  preview: (videoId: string) => `previews/${videoId}.mp4`,
  /** The poster frame of a video (made by the ingest job). */
  poster: (videoId: string) => `posters/${videoId}.jpg`,
  /** A broadcast master, keyed by the `masters` row (a re-selection makes a new row and a new key). */
  master: (masterId: string, profile: string, extension: 'mxf' | 'mp4') => `masters/${masterId}/${profile}.${extension}`,
  /** A signed authorisation scan (授权书), private: `consents/<entryId>/<scanId>` (read only through the consent service). */
  consentScan: (entryId: string, scanId: string) => `consents/${entryId}/${scanId}`,
  /** An objection's attachment (image or PDF), private: read by the city and 监督 only. */
  objectionAttachment: (objectionId: string) => `objections/${objectionId}`,
  /** One file of a new-media pack, keyed by the `media_packs` row (a restart makes a new row and new keys). */
  packFile: (packId: string, file: 'oa.mp4' | 'vertical.mp4' | 'cover-wide.jpg' | 'cover-square.jpg') => `packs/${packId}/${file}`,
  /** The prefix of one resumable upload's parts in the bucket. */
  tusParts: (uploadId: string) => `tus/${uploadId}/`,
  /** One part of a resumable upload, named by its first byte (16 digits, so names sort by offset). */
  tusPart: (uploadId: string, startByte: number) => `tus/${uploadId}/${String(startByte).padStart(16, '0')}`,
  /** A certificate's PDF, keyed by its `certificates` row. */
  certificate: (certificateId: string) => `certificates/${certificateId}.pdf`,
  /** The bureau's seal image (PNG), a new key per upload. */
  certificateSeal: (uploadId: string) => `certificates/seals/${uploadId}.png`,
  /** A round's print sheet (every live certificate in one PDF), a new key per making. */
  certificatePrint: (roundId: string, madeId: string) => `certificates/prints/${roundId}/${madeId}.pdf`,
} as const;
