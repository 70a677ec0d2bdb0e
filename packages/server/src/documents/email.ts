/**
 * Taking an email apart (mailparser's streaming parser): each attachment streamed straight into the
 * blob store, never held whole in memory, plus the subject, sender and body text. Images referenced
 * from the HTML body (logos in signatures) are not documents. Broken encodings are decoded as well
 * as the parser can; a message the parser cannot read at all is reported, and the .eml is kept.
 */
import { MailParser, type AttachmentStream, type MessageText } from 'mailparser';
import type { BlobStore, StoredBlob } from './blobs.ts';

export interface EmailPart extends StoredBlob {
  filename: string;
  declaredType: string;
}

export interface ParsedEmail {
  subject: string;
  from: string;
  messageId: string;
  text: string;
  html: string;
  attachments: EmailPart[];
}

export async function parseEmail(blobs: BlobStore, emlSha: string): Promise<ParsedEmail> {
  const parser = new MailParser({ skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  const out: ParsedEmail = { subject: '', from: '', messageId: '', text: '', html: '', attachments: [] };
  const pending: Array<Promise<void>> = [];
  // In the order they appear in the message, whichever finishes storing first.
  const parts: EmailPart[] = [];
  return new Promise<ParsedEmail>((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      reject(err);
    };
    parser.on('headers', (headers) => {
      out.subject = String(headers.get('subject') ?? '');
      const from = headers.get('from') as { text?: string } | undefined;
      out.from = from?.text ?? '';
      out.messageId = String(headers.get('message-id') ?? '');
    });
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') {
        out.text = data.text ?? '';
        out.html = typeof data.html === 'string' ? data.html : '';
        return;
      }
      const a = data;
      if (a.related) {
        // An image the HTML body shows inline (a logo): drained, not a document.
        a.content.on('data', () => undefined);
        a.content.on('end', () => a.release?.());
        return;
      }
      const index = pending.length;
      pending.push(
        blobs.put(a.content).then(
          (blob) => {
            parts[index] = { ...blob, filename: a.filename ?? '', declaredType: a.contentType ?? '' };
            a.release?.();
          },
          (err) => {
            a.release?.();
            throw err;
          },
        ),
      );
    });
    parser.on('error', fail);
    parser.on('end', () => {
      Promise.all(pending).then(() => {
        out.attachments = parts.filter(Boolean);
        if (!failed) resolve(out);
      }, fail);
    });
    const source = blobs.open(emlSha);
    source.on('error', fail);
    source.pipe(parser);
  });
}
