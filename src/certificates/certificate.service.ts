import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea, canUse } from '../accounts/policy';
import { recordAudit } from '../platform/audit';
import { beijingDay } from '../platform/format';
import type { Db } from '../platform/db/database';
import { forbidden, invalidState, notFound, validationFailed } from '../platform/errors';
import type { ObjectStore } from '../platform/storage/object-store';
import { streamZip } from '../platform/storage/zip-stream';
import { objectKeys } from '../platform/storage/object-keys';
import { parse } from '../platform/validate';
import type { AppJobQueue } from '../jobs';
import { AWARD_LABELS } from '../judging/judging.messages';
import type { AwardTier } from '../judging/judging.schema';
import { issueInput, revokeInput } from './certificate.contract';
import { CERTIFICATE_KIND_LABELS, CERTIFICATE_MESSAGES as M, CERTIFICATE_TEXT as T } from './certificate.messages';
import * as repo from './certificate.repository';
import type { CertificateKind } from './certificate.schema';

/** The job that renders a round's pending certificates and its print sheet. */
export const CERTIFICATES_JOB = 'certificates.render';
export interface CertificatesPayload {
  roundId: string;
}

const SEAL_MAX_BYTES = 2 * 1024 * 1024;
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The number's prefix: the county code in capitals, SZ for 市直 schools and the city. */
export const numberPrefix = (countyCode: string | null | undefined) => (countyCode ? countyCode.toUpperCase() : 'SZ');

export interface CertificateView {
  number: string;
  kind: CertificateKind;
  kindLabel: string;
  recipient: string;
  award: string;
  awardLabel: string;
  entryTitle: string | null;
  songTitle: string | null;
  schoolName: string | null;
  countyName: string | null;
  issuer: string;
  issuedOn: string;
  roundName: string;
  campaignTitle: string;
  verifyUrl: string;
  revoked: boolean;
  revokedAt: Date | null;
  revokedReason: string | null;
}

export interface CertificateItem extends CertificateView {
  id: string;
  roundId: string;
  entryId: string | null;
  schoolId: string | null;
  countyId: string | null;
  status: 'pending' | 'ready' | 'failed';
  error: string | null;
  pdfUrl: string;
}

/** The public face of a certificate: the award and names it prints, nothing else (no phone, no account, no score). */
export function publicView(r: repo.CertificateRow): CertificateView {
  return {
    number: r.number,
    kind: r.kind,
    kindLabel: CERTIFICATE_KIND_LABELS[r.kind],
    recipient: r.recipient,
    award: r.award,
    awardLabel: r.award_label,
    entryTitle: r.entry_title,
    songTitle: r.song_title,
    schoolName: r.school_name,
    countyName: r.county_name,
    issuer: r.issuer,
    issuedOn: r.issued_on,
    roundName: r.round_name,
    campaignTitle: r.campaign_title,
    verifyUrl: r.verify_url,
    revoked: r.revoked_at !== null,
    revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
    revokedReason: r.revoked_reason,
  };
}

const item = (r: repo.CertificateRow): CertificateItem => ({
  ...publicView(r),
  id: r.id,
  roundId: r.round_id,
  entryId: r.entry_id,
  schoolId: r.school_id,
  countyId: r.county_id,
  status: r.status,
  error: r.error,
  pdfUrl: `/api/v1/certificates/${encodeURIComponent(r.number)}/pdf`,
});

/** The PDF's file name a person sees: 证书编号_获奖者_奖项.pdf */
export const pdfFileName = (r: { number: string; recipient: string; award_label: string }) =>
  `${r.number}_${r.recipient}_${r.award_label}.pdf`.replace(/[\\/:*?"<>|\s]+/g, '_');

export function createCertificateService(db: Db, deps: { store: ObjectStore; queue: AppJobQueue; onEnqueued?: () => void }) {
  /** Who may download a certificate: the city; a county its own county's; a school its own. */
  function maySee(actor: CurrentUser, r: { school_id: string | null; county_id: string | null }) {
    if (actor.role === 'admin') return true;
    if (actor.role === 'county') return actor.countyId !== null && r.county_id === actor.countyId;
    if (actor.role === 'school') return actor.schoolId !== null && r.school_id === actor.schoolId;
    return false;
  }

  async function readableSchool(actor: CurrentUser, schoolId: string) {
    if (!canUse(actor, 'certificates')) throw forbidden();
    const school = await repo.findSchool(db, schoolId);
    if (!school || !maySee(actor, { school_id: school.id, county_id: school.county_id })) throw notFound(M.schoolNotFound);
    return school;
  }

  async function roundOf(actor: CurrentUser, roundId: string) {
    assertArea(actor, 'certificatesManage');
    const round = await repo.findRound(db, roundId);
    if (!round) throw notFound(M.roundNotFound);
    return round;
  }

  /** Streams the ready PDFs of `rows` as one ZIP (stored: PDFs hardly shrink), one object at a time. */
  async function zipTo(rows: repo.CertificateRow[], out: Writable, beforeWrite?: () => void) {
    const ready = rows.filter((r) => r.status === 'ready' && r.object_key && r.revoked_at === null);
    if (!ready.length) throw notFound(M.noCertificates);
    beforeWrite?.();
    await streamZip(
      out,
      ready.map((r) => ({ name: pdfFileName(r), open: async () => (await deps.store.get(r.object_key!)).body })),
    );
  }

  return {
    /**
     * Makes the round's certificates (admin): one per awarded entry (to the school), one per
     * 指导教师 named on an awarded entry, one 优秀组织奖 per chosen county. Certificates whose award
     * was withdrawn or changed are revoked (their numbers stay, as 已撤销) and new ones issued.
     * All live certificates are rendered again by the job (so a new seal applies too).
     */
    async issue(actor: CurrentUser, roundId: string, body: unknown, verifyBase: string) {
      const round = await roundOf(actor, roundId);
      if (!round.awards_confirmed_at) throw invalidState(M.awardsFirst);
      const input = parse(issueInput, body);
      const issuedOn = input.issuedOn ?? beijingDay(new Date());
      const counties = input.organisationCountyIds ? await repo.countiesByIds(db, input.organisationCountyIds) : null;
      if (counties && input.organisationCountyIds && counties.length !== input.organisationCountyIds.length) {
        const missing = input.organisationCountyIds.findIndex((id) => !counties.some((c) => c.id === id));
        throw validationFailed([{ field: `organisationCountyIds[${missing}]`, message: M.unknownCounty }]);
      }
      const settings = await repo.findSettingsOfRound(db, roundId);
      const issuer = settings?.issuer ?? '吕梁市教育局';
      const now = new Date();
      const result = await db.transaction().execute(async (trx) => {
        await repo.lockRound(trx, roundId);
        const awarded = await repo.awardedEntries(trx, roundId);
        const live = await repo.liveOfRound(trx, roundId);
        const issued: string[] = [];
        const revoked: string[] = [];
        const make = async (
          row: Omit<Parameters<typeof repo.insertCertificate>[1], 'number' | 'verify_url' | 'campaign_id' | 'round_id' | 'issuer' | 'issued_on'>,
          prefix: string,
        ) => {
          const number = `${prefix}-${String(await repo.nextSerial(trx, prefix)).padStart(5, '0')}`;
          await repo.insertCertificate(trx, {
            ...row,
            number,
            campaign_id: round.campaign_id,
            round_id: roundId,
            issuer,
            issued_on: issuedOn,
            verify_url: `${verifyBase}/verify/${number}`,
          });
          issued.push(number);
        };
        const drop = async (c: (typeof live)[number], reason: string) => {
          await repo.revoke(trx, c.id, reason, now);
          revoked.push(c.number);
        };

        // Entries and directors: revoke what no longer matches the awards, issue what is missing.
        for (const c of live.filter((x) => x.kind !== 'organisation')) {
          const a = awarded.find((x) => x.entry_id === c.entry_id);
          if (!a) await drop(c, M.awardWithdrawn);
          else if (a.award !== c.award) await drop(c, M.awardChanged(AWARD_LABELS[a.award as AwardTier]));
          else if (c.kind === 'director' && (a.director_name ?? '').trim() !== c.recipient) await drop(c, M.directorChanged);
        }
        const stillLive = new Set(live.filter((c) => !revoked.includes(c.number)).map((c) => `${c.kind}:${c.entry_id ?? c.county_id}`));
        for (const a of awarded) {
          const awardLabel = AWARD_LABELS[a.award as AwardTier];
          const base = {
            entry_id: a.entry_id,
            school_id: a.school_id,
            county_id: a.county_id,
            award: a.award!,
            award_label: awardLabel,
            entry_title: a.title,
            song_title: a.song_title ?? a.custom_song_title,
            school_name: a.school_name,
            county_name: a.county_name ?? '市直学校',
          };
          if (!stillLive.has(`entry:${a.entry_id}`)) await make({ ...base, kind: 'entry', recipient: a.school_name }, numberPrefix(a.county_code));
          const director = (a.director_name ?? '').trim();
          if (director && !stillLive.has(`director:${a.entry_id}`)) await make({ ...base, kind: 'director', recipient: director }, numberPrefix(a.county_code));
        }
        // 优秀组织奖: exactly the chosen counties (when a choice is given).
        if (counties) {
          for (const c of live.filter((x) => x.kind === 'organisation' && !counties.some((k) => k.id === x.county_id))) await drop(c, M.organisationWithdrawn);
          for (const county of counties) {
            if (stillLive.has(`organisation:${county.id}`)) continue;
            await make(
              {
                kind: 'organisation',
                entry_id: null,
                school_id: null,
                county_id: county.id,
                recipient: `${county.name}教育局`,
                award: 'organisation',
                award_label: T.organisationAward,
                entry_title: null,
                song_title: null,
                school_name: null,
                county_name: county.name,
              },
              numberPrefix(county.code),
            );
          }
        }
        await repo.markRoundPending(trx, roundId);
        await deps.queue.enqueue(trx, { type: CERTIFICATES_JOB, payload: { roundId } });
        await recordAudit(trx, {
          actor,
          action: 'certificate.issue',
          objectType: 'round',
          objectId: roundId,
          detail: { issued: issued.length, revoked, issuedOn, organisationCountyIds: input.organisationCountyIds ?? null },
        });
        return { issued, revoked };
      });
      deps.onEnqueued?.();
      const all = await repo.listOfRound(db, roundId, { liveOnly: true });
      return { issued: result.issued, revoked: result.revoked, live: all.length };
    },

    async listRound(actor: CurrentUser, roundId: string) {
      const round = await roundOf(actor, roundId);
      const [rows, print, settings] = await Promise.all([repo.listOfRound(db, roundId), repo.findPrint(db, roundId), repo.findSettingsOfRound(db, roundId)]);
      return {
        round: { id: round.id, name: round.name, awardsConfirmed: round.awards_confirmed_at !== null },
        items: rows.map(item),
        print: print ? { pages: print.pages, madeAt: new Date(print.made_at), url: `/api/v1/rounds/${round.id}/certificates/print.pdf` } : null,
        seal: Boolean(settings?.seal_key),
      };
    },

    async listSchool(actor: CurrentUser, schoolId: string) {
      await readableSchool(actor, schoolId);
      return (await repo.listOfSchool(db, schoolId)).map(item);
    },

    /** What the caller may download: a school its own, a county its county's (also 优秀组织奖), the city all. */
    async listMine(actor: CurrentUser) {
      if (!canUse(actor, 'certificates')) throw forbidden();
      if (actor.role === 'school') return actor.schoolId ? (await repo.listOfSchool(db, actor.schoolId)).map(item) : [];
      if (actor.role === 'county') return actor.countyId ? (await repo.listOfCounty(db, actor.countyId)).map(item) : [];
      return [];
    },

    /** Public (no login): the award a number stands for, or 404. */
    async verify(number: string): Promise<CertificateView> {
      const r = /^[A-Z0-9]{1,20}-\d{1,9}$/.test(number) ? await repo.findByNumber(db, number) : undefined;
      if (!r) throw notFound(M.notFound);
      return publicView(r);
    },

    /** The stored PDF of one certificate the caller may see: its key and file name. */
    async pdf(actor: CurrentUser, number: string) {
      if (!canUse(actor, 'certificates')) throw forbidden();
      const r = await repo.findByNumber(db, number);
      if (!r || !maySee(actor, r)) throw notFound(M.notFound);
      if (r.status !== 'ready' || !r.object_key) throw invalidState(M.notReady);
      return { key: r.object_key, fileName: pdfFileName(r) };
    },

    async printSheet(actor: CurrentUser, roundId: string) {
      const round = await roundOf(actor, roundId);
      const print = await repo.findPrint(db, roundId);
      if (!print) throw invalidState(M.printNotReady);
      return { key: print.object_key, fileName: `${round.name}_证书打印版.pdf` };
    },

    async zipRound(actor: CurrentUser, roundId: string, out: Writable, beforeWrite?: () => void) {
      await roundOf(actor, roundId);
      await zipTo(await repo.listOfRound(db, roundId, { liveOnly: true }), out, beforeWrite);
    },

    async zipSchool(actor: CurrentUser, schoolId: string, out: Writable, beforeWrite?: () => void) {
      await readableSchool(actor, schoolId);
      await zipTo(await repo.listOfSchool(db, schoolId, { liveOnly: true }), out, beforeWrite);
    },

    async revoke(actor: CurrentUser, number: string, body: unknown) {
      assertArea(actor, 'certificatesManage');
      const input = parse(revokeInput, body);
      const r = await repo.findByNumber(db, number);
      if (!r) throw notFound(M.notFound);
      if (r.revoked_at) throw invalidState('该证书已撤销。');
      await db.transaction().execute(async (trx) => {
        await repo.revoke(trx, r.id, input.reason, new Date());
        await recordAudit(trx, { actor, action: 'certificate.revoke', objectType: 'certificate', objectId: r.number, reason: input.reason });
      });
      return this.verify(number);
    },

    /** The bureau's seal (PNG ≤ 2 MB, sniffed), placed over the date on certificates rendered from now on. */
    async setSeal(actor: CurrentUser, campaignId: string, file: { path: string; size: number } | undefined) {
      assertArea(actor, 'certificatesManage');
      try {
        if (!file) throw validationFailed([{ field: 'file', message: M.sealMissing }]);
        if (file.size > SEAL_MAX_BYTES) throw validationFailed([{ field: 'file', message: M.sealTooLarge }]);
        const head = Buffer.alloc(8);
        const fd = await fs.promises.open(file.path, 'r');
        try {
          await fd.read(head, 0, 8, 0);
        } finally {
          await fd.close();
        }
        if (!head.equals(PNG_MAGIC)) throw validationFailed([{ field: 'file', message: M.sealNotPng }]);
        const key = objectKeys.certificateSeal(crypto.randomUUID());
        await deps.store.putFile(key, file.path, { contentType: 'image/png' });
        await db.transaction().execute(async (trx) => {
          await repo.setSeal(trx, campaignId, key);
          await recordAudit(trx, { actor, action: 'certificate.seal', objectType: 'campaign', objectId: campaignId, to: key });
        });
        return { seal: true };
      } finally {
        if (file) await fs.promises.rm(file.path, { force: true });
      }
    },

    async removeSeal(actor: CurrentUser, campaignId: string) {
      assertArea(actor, 'certificatesManage');
      await db.transaction().execute(async (trx) => {
        await repo.setSeal(trx, campaignId, null);
        await recordAudit(trx, { actor, action: 'certificate.seal', objectType: 'campaign', objectId: campaignId, to: null });
      });
      return { seal: false };
    },

    counties: () => repo.listCounties(db),
  };
}

export type CertificateService = ReturnType<typeof createCertificateService>;

/** For the job: read a stored object fully (a seal image is small). */
export async function readSmallObject(store: ObjectStore, key: string): Promise<Buffer> {
  const { body } = await store.get(key);
  const chunks: Buffer[] = [];
  for await (const c of body as Readable) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
