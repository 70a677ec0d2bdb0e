import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import { FormApp } from './FormApp.tsx';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <FormApp />
  </StrictMode>,
);
